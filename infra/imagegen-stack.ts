/**
 * The imagegen stack: the topology rendered as CloudFormation. Every bus, rule, state machine,
 * function, topic, bucket, table and endpoint comes from a topology entry (and is marked with its
 * `<kind>/<name>` in metadata); nothing here invents a name the topology has.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ArnFormat, Aws, CfnParameter, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { names } from '../topology/imagegen-topology';
import { findResource, isRef, renderDefinitionValues, type RuleSpec, type TargetSpec, type Topology } from '../topology/topology';
import { MODEL_ARTIFACTS_URI, type InfraConfig } from './config';
import { AsyncEndpoint } from './constructs/async-endpoint';
import { EndpointScaling } from './constructs/endpoint-scaling';
import { FaultInjection } from './constructs/fault-injection';
import { Observability } from './constructs/observability';
import { TaskFunction } from './constructs/task-function';
import { acknowledgeFaultInjectionFindings, acknowledgeFindings } from './nag';
import { statementsFor } from './permissions';
import type { RenderedResources } from './rendered-resources';
import { markSupport, markTopology, TopologyRegistry } from './topology-registry';

export const REPO_ROOT = path.resolve(__dirname, '..');

export interface ImagegenStackProps extends StackProps {
  /** What to deploy: names and wiring. */
  readonly topology: Topology;
  /** Settings that are not part of the topology (artifacts, retention, alarm routing). */
  readonly config: InfraConfig;
  /** Repository root (entries, ASL files, lock file). @default the directory above infra/ */
  readonly repoRoot?: string;
}

export class ImagegenStack extends Stack implements RenderedResources {
  public readonly registry = new TopologyRegistry();
  public readonly buses = new Map<string, events.EventBus>();
  public readonly rules = new Map<string, events.Rule>();
  public readonly stateMachines = new Map<string, sfn.StateMachine>();
  public readonly functions = new Map<string, TaskFunction>();
  public readonly topics = new Map<string, sns.Topic>();
  public readonly buckets = new Map<string, s3.Bucket>();
  public readonly tables = new Map<string, dynamodb.Table>();
  public readonly endpoints = new Map<string, AsyncEndpoint>();
  /** Dead-letter queues of rule targets and topic subscriptions (watched by one alarm each). */
  public readonly deadLetterQueues = new Map<string, sqs.Queue>();
  public readonly modelArtifactsS3Uri: CfnParameter;
  /** The AWS FIS experiment on Complete, when `imagegen:faultInjection` is on. */
  public readonly faultInjection?: FaultInjection;

  constructor(scope: Construct, id: string, props: ImagegenStackProps) {
    super(scope, id, props);
    const { topology, config } = props;
    const repoRoot = props.repoRoot ?? REPO_ROOT;
    const retention = retentionDays(config.logRetentionDays);
    const dataRemoval = config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.modelArtifactsS3Uri = new CfnParameter(this, 'ModelArtifactsS3Uri', {
      type: 'String',
      description: 'S3 URI of the Neuron-compiled SDXL model.tar.gz (see docs/deploy.md)',
      allowedPattern: MODEL_ARTIFACTS_URI.source,
      constraintDescription: 'must be s3://bucket/path/model.tar.gz',
      ...(config.modelArtifactsS3Uri !== undefined && { default: config.modelArtifactsS3Uri }),
    });

    // ARNs of the state machines and endpoints are built from their names, so functions can be
    // granted access to them without a dependency cycle (a state machine references its functions).
    for (const sm of topology.stateMachines) {
      this.registry.register('stateMachine', sm.name, {
        name: sm.name,
        arn: this.formatArn({ service: 'states', resource: 'stateMachine', resourceName: sm.name, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      });
    }
    for (const ep of topology.endpoints) {
      this.registry.register('endpoint', ep.name, {
        name: ep.name,
        arn: this.formatArn({ service: 'sagemaker', resource: 'endpoint', resourceName: ep.name.toLowerCase() }),
      });
    }

    // Storage.
    const accessLogs = topology.buckets.length > 0 ? this.accessLogBucket(retention, topology.buckets[0]!.name) : undefined;
    for (const spec of topology.buckets) {
      const bucket = new s3.Bucket(this, `Bucket-${spec.name}`, {
        bucketName: config.bucketPhysicalName ?? `${spec.name}-${Aws.ACCOUNT_ID}-${Aws.REGION}`,
        encryption: s3.BucketEncryption.S3_MANAGED,
        enforceSSL: true,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        // Keys are content hashes: an object is never rewritten with other content, so versions add nothing.
        versioned: false,
        ...(accessLogs && { serverAccessLogsBucket: accessLogs as s3.IBucket, serverAccessLogsPrefix: `${spec.name}/` }),
        lifecycleRules: [
          ...spec.lifecycle.map((l) => ({ id: `expire-${l.prefix.replace(/\/$/, '')}`, prefix: l.prefix, expiration: Duration.days(l.days) })),
          { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        ],
        removalPolicy: dataRemoval,
      });
      markTopology(bucket.node.defaultChild as s3.CfnBucket, 'bucket', spec.name);
      this.buckets.set(spec.name, bucket);
      this.registry.register('bucket', spec.name, { name: bucket.bucketName, arn: bucket.bucketArn });
    }
    for (const spec of topology.tables) {
      const table = new dynamodb.Table(this, `Table-${spec.name}`, {
        tableName: spec.name,
        partitionKey: { name: spec.partitionKey, type: dynamodb.AttributeType.STRING },
        ...(spec.sortKey !== undefined && { sortKey: { name: spec.sortKey, type: dynamodb.AttributeType.STRING } }),
        ...(spec.ttlAttribute !== undefined && { timeToLiveAttribute: spec.ttlAttribute }),
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        removalPolicy: dataRemoval,
      });
      markTopology(table.node.defaultChild as dynamodb.CfnTable, 'table', spec.name);
      this.tables.set(spec.name, table);
      this.registry.register('table', spec.name, { name: table.tableName, arn: table.tableArn });
    }

    // Buses, with their archives for replay.
    for (const spec of topology.buses) {
      const bus = new events.EventBus(this, `Bus-${spec.name}`, { eventBusName: spec.name });
      markTopology(bus.node.defaultChild as events.CfnEventBus, 'bus', spec.name);
      if (spec.archive) {
        bus.archive('Archive', {
          archiveName: spec.archive.name,
          description: `Replayable copy of ${spec.name} events`,
          eventPattern: asEventPattern(spec.archive.eventPattern),
          retention: Duration.days(spec.archive.retentionDays),
        });
      }
      this.buses.set(spec.name, bus);
      this.registry.register('bus', spec.name, { name: bus.eventBusName, arn: bus.eventBusArn });
    }

    // Topics: one key for all of them; only the endpoints that notify on a topic may publish to it.
    const topicKey = topology.topics.length > 0
      ? new kms.Key(this, 'TopicKey', { description: 'Encrypts the inference notification topics', enableKeyRotation: true })
      : undefined;
    for (const spec of topology.topics) {
      const topic = new sns.Topic(this, `Topic-${spec.name}`, { topicName: spec.name, masterKey: topicKey!, enforceSSL: true });
      markTopology(topic.node.defaultChild as sns.CfnTopic, 'topic', spec.name);
      this.topics.set(spec.name, topic);
      this.registry.register('topic', spec.name, { name: topic.topicName, arn: topic.topicArn });
    }

    // Endpoints.
    for (const spec of topology.endpoints) {
      const topic = (name: string) => {
        const t = this.topics.get(name);
        if (!t) throw new Error(`endpoint ${spec.name} notifies topic "${name}", which the topology does not have`);
        return t;
      };
      const endpoint = new AsyncEndpoint(this, `Endpoint-${spec.name}`, {
        spec,
        modelArtifactsS3Uri: this.modelArtifactsS3Uri.valueAsString,
        bucket: (name) => this.registry.get('bucket', name),
        successTopic: topic(spec.async.successTopic),
        errorTopic: topic(spec.async.errorTopic),
        topicKey: topicKey!,
        ...(config.containerImage !== undefined && { image: config.containerImage }),
      });
      this.endpoints.set(spec.name, endpoint);
      if (config.autoScaling) new EndpointScaling(this, `Scaling-${spec.name}`, { spec, endpoint: endpoint.endpoint });
    }
    for (const spec of topology.topics) {
      const publishers = topology.endpoints
        .filter((ep) => ep.async.successTopic === spec.name || ep.async.errorTopic === spec.name)
        .map((ep) => this.endpoints.get(ep.name)!.executionRole.roleArn);
      this.restrictPublishers(this.topics.get(spec.name)!, publishers);
    }

    // Functions. Those that SNS or EventBridge invoke asynchronously get a dead-letter queue.
    const asyncInvoked = new Set([
      ...topology.topics.flatMap((t) => t.subscriptions.map((s) => s.function)),
      ...topology.rules.flatMap((r) => r.targets.filter((t) => t.kind === 'function').map((t) => t.name)),
    ]);
    for (const spec of topology.functions) {
      const environment = Object.fromEntries(
        Object.entries(spec.environment).map(([k, v]) => [k, isRef(v) ? this.registry.resolve(v) : v]),
      );
      const fn = new TaskFunction(this, `Function-${spec.name}`, {
        spec,
        repoRoot,
        environment,
        logRetention: retention,
        asyncDeadLetterQueue: asyncInvoked.has(spec.name),
      });
      for (const statement of statementsFor(spec.permissions, this.registry)) fn.role.addToPrincipalPolicy(statement);
      if (fn.deadLetterQueue) this.deadLetterQueues.set(`${spec.name}-async-dlq`, fn.deadLetterQueue);
      this.functions.set(spec.name, fn);
      this.registry.register('function', spec.name, { name: fn.function.functionName, arn: fn.function.functionArn });
    }

    // Subscriptions, each with a dead-letter queue for notifications SNS could not deliver.
    for (const spec of topology.topics) {
      spec.subscriptions.forEach((sub, i) => {
        const dlq = this.deadLetterQueue(`SubscriptionDlq-${spec.name}-${i}`, `${spec.name}-${sub.function}-dlq`);
        markSupport(dlq.node.defaultChild as sqs.CfnQueue, 'topic', spec.name, `subscription-dlq:${sub.function}`);
        this.topics.get(spec.name)!.addSubscription(
          new subscriptions.LambdaSubscription(this.functionConstruct(sub.function), { deadLetterQueue: dlq }),
        );
      });
    }

    // State machines, from the same ASL file the local cloud runs.
    for (const spec of topology.stateMachines) {
      // Numbers derived from the configuration are rendered here; ARNs go through DefinitionSubstitutions.
      const definition = renderDefinitionValues(readFileSync(path.resolve(repoRoot, spec.definitionFile), 'utf8'), spec.values);
      const logGroup = new logs.LogGroup(this, `StateMachineLogs-${spec.name}`, {
        logGroupName: `/aws/vendedlogs/states/${spec.name}`,
        retention,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      markSupport(logGroup.node.defaultChild as logs.CfnLogGroup, 'stateMachine', spec.name, 'logs');
      const sm = new sfn.StateMachine(this, `StateMachine-${spec.name}`, {
        stateMachineName: spec.name,
        stateMachineType: sfn.StateMachineType.STANDARD,
        // The definition is inlined (not an S3 asset) so `cdk diff` shows state-level changes.
        definitionBody: sfn.DefinitionBody.fromString(definition),
        definitionSubstitutions: Object.fromEntries(Object.entries(spec.substitutions).map(([k, ref]) => [k, this.registry.resolve(ref)])),
        logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
        tracingEnabled: true,
      });
      // The definition's tasks use exactly what its substitutions point at.
      for (const ref of Object.values(spec.substitutions)) {
        const arn = this.registry.resolve({ ...ref, attr: 'arn' });
        if (ref.kind === 'function') sm.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [arn] }));
        if (ref.kind === 'bus') sm.addToRolePolicy(new iam.PolicyStatement({ actions: ['events:PutEvents'], resources: [arn] }));
      }
      markTopology(sm.node.defaultChild as sfn.CfnStateMachine, 'stateMachine', spec.name);
      this.stateMachines.set(spec.name, sm);
    }

    // Rules last: they target state machines and functions.
    for (const spec of topology.rules) this.rules.set(spec.name, this.renderRule(spec, topology));

    const observability = new Observability(this, 'Observability', { stack: this, topology, config });
    acknowledgeFindings(this, topology);

    if (config.faultInjection) {
      this.faultInjection = new FaultInjection(this, 'FaultInjection', {
        target: this.functions.get(names.completeFunction)!,
        targetName: names.completeFunction,
        settings: config.faultInjection,
        // Failed executions mean the recovery is not keeping up: stop injecting.
        stopConditions: [...observability.failedExecutionAlarms.values()],
        ...(accessLogs && { accessLogs: accessLogs as s3.IBucket }),
        logRetention: retention,
      });
      acknowledgeFaultInjectionFindings(this, this.faultInjection, this.functions.get(names.completeFunction)!);
    }
  }

  private accessLogBucket(retention: logs.RetentionDays, servedBucket: string): s3.Bucket {
    const bucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(Math.max(1, retention)) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    markSupport(bucket.node.defaultChild as s3.CfnBucket, 'bucket', servedBucket, 'server-access-logs');
    return bucket;
  }

  private deadLetterQueue(id: string, queueName: string): sqs.Queue {
    const queue = new sqs.Queue(this, id, {
      queueName,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.deadLetterQueues.set(queueName, queue);
    return queue;
  }

  private restrictPublishers(topic: sns.Topic, publisherRoleArns: string[]): void {
    if (publisherRoleArns.length === 0) return;
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'PublishByEndpointRolesOnly',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': publisherRoleArns } },
      }),
    );
  }

  private functionConstruct(name: string): lambda.IFunction {
    const fn = this.functions.get(name);
    if (!fn) throw new Error(`topology references function "${name}", which it does not define`);
    return fn.function;
  }

  private renderRule(spec: RuleSpec, topology: Topology): events.Rule {
    if ((spec.eventPattern === undefined) === (spec.schedule === undefined)) {
      throw new Error(`rule ${spec.name} needs exactly one of eventPattern and schedule`);
    }
    const busName = spec.bus ?? 'default';
    const bus = busName === 'default' ? undefined : this.buses.get(busName);
    if (busName !== 'default' && !bus) throw new Error(`rule ${spec.name} listens on bus "${busName}", which the topology does not have`);
    const dlq = this.deadLetterQueue(`RuleDlq-${spec.name}`, `${spec.name}-dlq`);
    markSupport(dlq.node.defaultChild as sqs.CfnQueue, 'rule', spec.name, 'target-dlq');
    const delivery = {
      deadLetterQueue: dlq,
      ...(spec.retryPolicy && {
        retryAttempts: spec.retryPolicy.maximumRetryAttempts,
        maxEventAge: Duration.seconds(spec.retryPolicy.maximumEventAgeSeconds),
      }),
    };
    const rule = new events.Rule(this, `Rule-${spec.name}`, {
      ruleName: spec.name,
      ...(bus && { eventBus: bus }),
      ...(spec.eventPattern && { eventPattern: asEventPattern(spec.eventPattern) }),
      ...(spec.schedule && { schedule: events.Schedule.expression(spec.schedule) }),
      targets: spec.targets.map((t) => {
        const input = targetInput(t);
        if (t.kind === 'stateMachine') {
          findResource(topology, 'stateMachines', t.name);
          const sm = this.stateMachines.get(t.name)!;
          return new targets.SfnStateMachine(sm, { ...delivery, ...(input && { input }) });
        }
        return new targets.LambdaFunction(this.functionConstruct(t.name), { ...delivery, ...(input && { input }) });
      }),
    });
    const cfn = rule.node.defaultChild as events.CfnRule;
    spec.targets.forEach((t, i) => {
      if (t.inputPath !== undefined) cfn.addPropertyOverride(`Targets.${i}.InputPath`, t.inputPath);
    });
    markTopology(cfn, 'rule', spec.name);
    return rule;
  }
}

function targetInput(t: TargetSpec): events.RuleTargetInput | undefined {
  if (t.input !== undefined) return events.RuleTargetInput.fromObject(JSON.parse(t.input) as unknown);
  if (t.inputTransformer) {
    // The template is passed through untouched; paths map `<name>` placeholders as EventBridge does.
    const { inputPathsMap = {}, inputTemplate } = t.inputTransformer;
    return {
      bind: () => ({ inputPathsMap: { ...inputPathsMap }, inputTemplate }),
    } as events.RuleTargetInput;
  }
  return undefined;
}

/** CDK renders pattern keys as given (only its own `detailType` is renamed), so EventBridge's JSON passes through. */
function asEventPattern(pattern: Readonly<Record<string, unknown>>): events.EventPattern {
  return pattern as events.EventPattern;
}

function retentionDays(days: number): logs.RetentionDays {
  const allowed = Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number');
  if (!allowed.includes(days)) throw new Error(`imagegen:logRetentionDays must be one of ${allowed.sort((a, b) => a - b).join(', ')}, got ${days}`);
  return days as logs.RetentionDays;
}
