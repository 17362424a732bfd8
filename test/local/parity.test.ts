/**
 * The local half of topology parity (the CDK half is test/infra/parity.test.ts): everything the
 * topology names exists in the local cloud, wired as written, and the cloud has nothing else —
 * observed through the services' own APIs with real SDK clients, as an operator would.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, ListEventBusesCommand, ListRulesCommand, ListTargetsByRuleCommand } from '@aws-sdk/client-eventbridge';
import { LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeStateMachineCommand, ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { ListSubscriptionsByTopicCommand, ListTopicsCommand, SNSClient } from '@aws-sdk/client-sns';
import { LocalCloud, REPO_ROOT } from '../../local/cloud';
import { arnOf, resolveRef, substituteDefinition } from '../../local/arns';
import { imagegenTopology } from '../../topology/imagegen-topology';
import { renderDefinitionValues } from '../../topology/topology';

jest.setTimeout(60_000);

const topology = imagegenTopology();
const sorted = (values: readonly (string | undefined)[]) => values.filter((v): v is string => v !== undefined).sort();

describe('local cloud ⇔ topology', () => {
  let cloud: LocalCloud;
  let dataDir: string;
  let config: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'imagegen-parity-'));
    cloud = await LocalCloud.start({ port: 0, dataDir, standIn: { inferenceMs: 1 } });
    config = { endpoint: cloud.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  });

  afterAll(async () => {
    await cloud?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('has exactly the topology buses (plus the always-present default bus)', async () => {
    const buses = await new EventBridgeClient(config).send(new ListEventBusesCommand({}));
    expect(sorted((buses.EventBuses ?? []).map((b) => b.Name))).toEqual(sorted(['default', ...topology.buses.map((b) => b.name)]));
  });

  it('has exactly the topology rules, with their patterns, schedules and targets', async () => {
    const client = new EventBridgeClient(config);
    const found: string[] = [];
    for (const bus of ['default', ...topology.buses.map((b) => b.name)]) {
      for (const rule of (await client.send(new ListRulesCommand({ EventBusName: bus }))).Rules ?? []) {
        found.push(rule.Name ?? '');
        const spec = topology.rules.find((r) => r.name === rule.Name);
        expect(spec).toBeDefined();
        expect(rule.EventBusName).toBe(spec?.bus ?? 'default');
        expect(rule.EventPattern === undefined ? undefined : JSON.parse(rule.EventPattern)).toEqual(spec?.eventPattern);
        expect(rule.ScheduleExpression).toBe(spec?.schedule);
        const targets = await client.send(new ListTargetsByRuleCommand({ Rule: rule.Name, EventBusName: bus }));
        expect(sorted((targets.Targets ?? []).map((t) => t.Arn))).toEqual(sorted(spec?.targets.map((t) => arnOf(t.kind, t.name, cloud.partition)) ?? []));
      }
    }
    expect(sorted(found)).toEqual(sorted(topology.rules.map((r) => r.name)));
  });

  it('runs exactly the topology state machines, from the workflows/ file with substitutions', async () => {
    const client = new SFNClient(config);
    const machines = (await client.send(new ListStateMachinesCommand({}))).stateMachines ?? [];
    expect(sorted(machines.map((m) => m.name))).toEqual(sorted(topology.stateMachines.map((m) => m.name)));
    for (const spec of topology.stateMachines) {
      const described = await client.send(new DescribeStateMachineCommand({ stateMachineArn: arnOf('stateMachine', spec.name, cloud.partition) }));
      const expected = substituteDefinition(
        renderDefinitionValues(readFileSync(join(REPO_ROOT, spec.definitionFile), 'utf8'), spec.values),
        Object.fromEntries(Object.entries(spec.substitutions).map(([k, r]) => [k, resolveRef(r, cloud.partition)])),
      );
      expect(JSON.parse(described.definition ?? '{}')).toEqual(JSON.parse(expected));
      expect(described.type).toBe(spec.type);
    }
  });

  it('has exactly the topology functions', async () => {
    const functions = (await new LambdaClient(config).send(new ListFunctionsCommand({}))).Functions ?? [];
    expect(sorted(functions.map((f) => f.FunctionName))).toEqual(sorted(topology.functions.map((f) => f.name)));
    for (const f of functions) {
      const spec = topology.functions.find((s) => s.name === f.FunctionName);
      expect(f.MemorySize).toBe(spec?.memoryMb);
      expect(f.Timeout).toBe(spec?.timeoutSeconds);
    }
  });

  it('has exactly the topology topics, each subscribed to its functions', async () => {
    const client = new SNSClient(config);
    const topics = (await client.send(new ListTopicsCommand({}))).Topics ?? [];
    expect(sorted(topics.map((t) => t.TopicArn))).toEqual(sorted(topology.topics.map((t) => arnOf('topic', t.name, cloud.partition))));
    for (const spec of topology.topics) {
      const subs = await client.send(new ListSubscriptionsByTopicCommand({ TopicArn: arnOf('topic', spec.name, cloud.partition) }));
      expect(sorted((subs.Subscriptions ?? []).map((s) => `${s.Protocol}:${s.Endpoint}`))).toEqual(
        sorted(spec.subscriptions.map((s) => `${s.protocol}:${arnOf('function', s.function, cloud.partition)}`)),
      );
    }
  });

  it('has exactly the topology buckets and tables', async () => {
    const buckets = (await new S3Client({ ...config, forcePathStyle: true }).send(new ListBucketsCommand({}))).Buckets ?? [];
    expect(sorted(buckets.map((b) => b.Name))).toEqual(sorted(topology.buckets.map((b) => b.name)));
    const tables = (await new DynamoDBClient(config).send(new ListTablesCommand({}))).TableNames ?? [];
    expect(sorted(tables)).toEqual(sorted(topology.tables.map((t) => t.name)));
  });

  it('has exactly the topology endpoints', async () => {
    const response = await fetch(cloud.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'SageMaker.ListEndpoints',
        authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/sagemaker/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: '{}',
    });
    const body = (await response.json()) as { Endpoints: { EndpointName: string }[] };
    expect(sorted(body.Endpoints.map((e) => e.EndpointName))).toEqual(sorted(topology.endpoints.map((e) => e.name)));
  });
});
