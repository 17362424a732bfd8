/**
 * Topology ↔ synthesized template: every topology element is rendered exactly once (found by its
 * `imagegen:topology` metadata), is wired as the topology says, and the template holds no resource
 * of those kinds that the topology does not have.
 */
import type { ResourceKind, Topology } from '../../topology/topology';
import { logicalIdOf, synthesize, type Synthesized } from './synth';

const RESOURCE_TYPES: Record<ResourceKind, string> = {
  bus: 'AWS::Events::EventBus',
  rule: 'AWS::Events::Rule',
  stateMachine: 'AWS::StepFunctions::StateMachine',
  function: 'AWS::Lambda::Function',
  topic: 'AWS::SNS::Topic',
  bucket: 'AWS::S3::Bucket',
  table: 'AWS::DynamoDB::Table',
  endpoint: 'AWS::SageMaker::Endpoint',
};

/** The physical-name property of each kind, where the topology name is deployed verbatim. */
const NAME_PROPERTY: Partial<Record<ResourceKind, string>> = {
  bus: 'Name',
  rule: 'Name',
  stateMachine: 'StateMachineName',
  function: 'FunctionName',
  topic: 'TopicName',
  table: 'TableName',
  endpoint: 'EndpointName',
};

const COLLECTION: Record<ResourceKind, keyof Topology> = {
  bus: 'buses',
  rule: 'rules',
  stateMachine: 'stateMachines',
  function: 'functions',
  topic: 'topics',
  bucket: 'buckets',
  table: 'tables',
  endpoint: 'endpoints',
};

let s: Synthesized;
beforeAll(() => {
  s = synthesize();
}, 120_000);

const kinds = Object.keys(RESOURCE_TYPES) as ResourceKind[];
const namesOf = (kind: ResourceKind) => (s.topology[COLLECTION[kind]] as readonly { name: string }[]).map((e) => e.name);
const props = (id: string) => s.json.Resources[id]!.Properties!;

describe('topology → template', () => {
  it.each(kinds)('renders every %s of the topology exactly once, under its topology name', (kind) => {
    const names = namesOf(kind);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      const id = logicalIdOf(s, kind, name);
      expect(s.json.Resources[id]!.Type).toBe(RESOURCE_TYPES[kind]);
      const nameProperty = NAME_PROPERTY[kind];
      if (nameProperty) expect(props(id)[nameProperty]).toBe(name);
    }
  });

  it('names the bucket after its topology name (made globally unique with account and Region)', () => {
    for (const name of namesOf('bucket')) {
      expect(JSON.stringify(props(logicalIdOf(s, 'bucket', name)).BucketName)).toContain(`"${name}-"`);
    }
  });

  it('wires each rule to its bus and targets', () => {
    for (const rule of s.topology.rules) {
      const p = props(logicalIdOf(s, 'rule', rule.name));
      if (rule.bus && rule.bus !== 'default') expect(p.EventBusName).toEqual({ Ref: logicalIdOf(s, 'bus', rule.bus) });
      else expect(p.EventBusName).toBeUndefined();
      // Absent on both sides when the topology rule has none: a stray pattern or schedule fails too.
      expect(p.EventPattern).toEqual(rule.eventPattern);
      expect(p.ScheduleExpression).toBe(rule.schedule);
      const arns = (p.Targets as { Arn: unknown }[]).map((t) => t.Arn);
      expect(arns).toEqual(
        rule.targets.map((t) =>
          t.kind === 'stateMachine'
            ? { Ref: logicalIdOf(s, 'stateMachine', t.name) }
            : { 'Fn::GetAtt': [logicalIdOf(s, 'function', t.name), 'Arn'] },
        ),
      );
    }
  });

  it('subscribes exactly the topology functions to each topic', () => {
    const subscriptions = Object.values(s.json.Resources).filter((r) => r.Type === 'AWS::SNS::Subscription');
    const rendered = subscriptions.map((r) => JSON.stringify([r.Properties!.TopicArn, r.Properties!.Protocol, r.Properties!.Endpoint])).sort();
    const expected = s.topology.topics
      .flatMap((t) =>
        t.subscriptions.map((sub) =>
          JSON.stringify([{ Ref: logicalIdOf(s, 'topic', t.name) }, sub.protocol, { 'Fn::GetAtt': [logicalIdOf(s, 'function', sub.function), 'Arn'] }]),
        ),
      )
      .sort();
    expect(rendered).toEqual(expected);
  });

  it('points each endpoint config at the topology topics and bucket prefixes', () => {
    for (const ep of s.topology.endpoints) {
      const configName = props(logicalIdOf(s, 'endpoint', ep.name)).EndpointConfigName as { 'Fn::GetAtt': [string, string] };
      const config = props(configName['Fn::GetAtt'][0]);
      const output = (config.AsyncInferenceConfig as { OutputConfig: Record<string, unknown> }).OutputConfig;
      expect(output.NotificationConfig).toEqual({
        SuccessTopic: { Ref: logicalIdOf(s, 'topic', ep.async.successTopic) },
        ErrorTopic: { Ref: logicalIdOf(s, 'topic', ep.async.errorTopic) },
      });
      expect(JSON.stringify(output.S3OutputPath)).toContain(logicalIdOf(s, 'bucket', ep.async.output.bucket));
      expect(JSON.stringify(output.S3OutputPath)).toContain(ep.async.output.prefix);
      expect(JSON.stringify(output.S3FailurePath)).toContain(ep.async.failure.prefix);
      expect((config.ProductionVariants as { VariantName: string }[])[0]!.VariantName).toBe(ep.variantName);
    }
  });
});

describe('template → topology', () => {
  it.each(kinds)('has no %s that the topology does not have', (kind) => {
    const rendered = Object.entries(s.json.Resources).filter(([, r]) => r.Type === RESOURCE_TYPES[kind]);
    const fromTopology = rendered.filter(([, r]) => typeof r.Metadata?.['imagegen:topology'] === 'string');
    const supporting = rendered.filter(([, r]) => r.Metadata?.['imagegen:topology'] === undefined);
    expect(fromTopology.map(([, r]) => r.Metadata!['imagegen:topology']).sort()).toEqual(namesOf(kind).map((n) => `${kind}/${n}`).sort());
    // The only extra resource of a topology kind is the access-log bucket, declared as supporting one.
    for (const [id, r] of supporting) {
      expect([id, r.Metadata?.['imagegen:supports']]).toEqual([id, expect.stringMatching(/^bucket\/[^#]+#server-access-logs$/)]);
      const served = String(r.Metadata!['imagegen:supports']).split('#')[0]!.slice('bucket/'.length);
      expect(namesOf('bucket')).toContain(served);
    }
  });

  it('marks every supporting resource with the topology element it serves', () => {
    for (const [id, r] of Object.entries(s.json.Resources)) {
      const supports = r.Metadata?.['imagegen:supports'];
      if (supports === undefined) continue;
      const [element] = String(supports).split('#') as [string];
      const [kind, ...rest] = element.split('/');
      expect([id, namesOf(kind as ResourceKind)]).toEqual([id, expect.arrayContaining([rest.join('/')])]);
    }
  });
});
