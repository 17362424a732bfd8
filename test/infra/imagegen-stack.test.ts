import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { prefixes } from '../../topology/imagegen-topology';
import { allowedActions, allows, render, roleOfFunction, statementsOfRole } from './iam';
import { logicalIdOf, synthesize, type Synthesized } from './synth';

const REPO = path.resolve(__dirname, '../..');
const nightly = { name: 'nightly-off', schedule: 'cron(0 22 * * ? *)', timezone: 'Europe/Berlin', minCapacity: 0, maxCapacity: 0 };

let s: Synthesized;
beforeAll(() => {
  s = synthesize({ 'imagegen:scheduledActions': JSON.stringify([nightly]) });
}, 120_000);

const resourcesOfType = (type: string) => Object.entries(s.json.Resources).filter(([, r]) => r.Type === type);
const functionStatements = (name: string) => statementsOfRole(s, roleOfFunction(s, logicalIdOf(s, 'function', name)));
const bucketArn = () => `\${${logicalIdOf(s, 'bucket', s.topology.buckets[0]!.name)}.Arn}`;

describe('state machine', () => {
  it('deploys the workflows/ ASL file with its numbers rendered and the substitutions resolved to the topology resources', () => {
    const spec = s.topology.stateMachines[0]!;
    const asl = JSON.parse(readFileSync(path.join(REPO, spec.definitionFile), 'utf8'));
    const props = s.json.Resources[logicalIdOf(s, 'stateMachine', spec.name)]!.Properties!;
    const deployed = JSON.parse(props.DefinitionString as string);
    // The file says "${CallbackTimeoutSeconds}" (a JSON string); the deployed definition has the number.
    expect(asl.States.Resolve.TimeoutSeconds).toBe('${CallbackTimeoutSeconds}');
    expect(deployed.States.Resolve.TimeoutSeconds).toBe(spec.values!.CallbackTimeoutSeconds);
    expect({ ...deployed, States: { ...deployed.States, Resolve: { ...deployed.States.Resolve, TimeoutSeconds: 'x' } } }).toEqual({
      ...asl,
      States: { ...asl.States, Resolve: { ...asl.States.Resolve, TimeoutSeconds: 'x' } },
    });

    const substitutions = props.DefinitionSubstitutions as Record<string, unknown>;
    expect(Object.keys(substitutions).sort()).toEqual(Object.keys(spec.substitutions).sort());
    for (const [key, ref] of Object.entries(spec.substitutions)) {
      expect(substitutions[key]).toEqual({ 'Fn::GetAtt': [logicalIdOf(s, ref.kind, ref.name), 'Arn'] });
    }
    // After substitution every placeholder is gone and each task points at the rendered resource.
    let substituted = props.DefinitionString as string;
    for (const [key, value] of Object.entries(substitutions)) substituted = substituted.split(`\${${key}}`).join(render(value));
    expect(substituted).not.toMatch(/\$\{[A-Za-z]+\}/);
    const resolveId = logicalIdOf(s, 'function', 'imagegen-resolve');
    expect(JSON.parse(substituted).States.Resolve.Parameters.FunctionName).toBe(`\${${resolveId}.Arn}`);
  });

  it('is a Standard workflow whose definition waits for the Resolve callback token', () => {
    s.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'imagegen-request',
      StateMachineType: 'STANDARD',
      DefinitionString: Match.serializedJson(
        Match.objectLike({
          StartAt: 'Resolve',
          States: Match.objectLike({
            Resolve: Match.objectLike({
              Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
              Parameters: Match.objectLike({ Payload: Match.objectLike({ 'taskToken.$': '$$.Task.Token' }) }),
            }),
          }),
        }),
      ),
    });
  });

  it('logs every event without execution data and traces with X-Ray', () => {
    s.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
      TracingConfiguration: { Enabled: true },
    });
  });

  it('may invoke exactly the functions and buses its substitutions name', () => {
    const smId = logicalIdOf(s, 'stateMachine', 'imagegen-request');
    const roleId = (s.json.Resources[smId]!.Properties!.RoleArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
    const statements = statementsOfRole(s, roleId);
    for (const fn of ['imagegen-resolve', 'imagegen-report-failure']) {
      expect(allows(statements, 'lambda:InvokeFunction', `\${${logicalIdOf(s, 'function', fn)}.Arn}`)).toBe(true);
    }
    for (const fn of ['imagegen-complete', 'imagegen-publish-utilization', 'imagegen-reconcile']) {
      expect(allows(statements, 'lambda:InvokeFunction', `\${${logicalIdOf(s, 'function', fn)}.Arn}`)).toBe(false);
    }
    expect(allows(statements, 'events:PutEvents', `\${${logicalIdOf(s, 'bus', 'imagegen')}.Arn}`)).toBe(true);
  });
});

describe('event routing', () => {
  it('routes the topology pattern from the imagegen bus to the state machine with a retry policy and a DLQ', () => {
    const rule = s.topology.rules.find((r) => r.eventPattern)!;
    s.template.hasResourceProperties('AWS::Events::Rule', {
      Name: rule.name,
      EventBusName: { Ref: logicalIdOf(s, 'bus', rule.bus!) },
      EventPattern: rule.eventPattern,
      Targets: [
        Match.objectLike({
          Arn: { Ref: logicalIdOf(s, 'stateMachine', 'imagegen-request') },
          RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 20 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RuleDlq'), 'Arn'] } },
        }),
      ],
    });
  });

  it('archives request events for replay', () => {
    const archive = s.topology.buses[0]!.archive!;
    s.template.hasResourceProperties('AWS::Events::Archive', {
      ArchiveName: archive.name,
      RetentionDays: archive.retentionDays,
      EventPattern: archive.eventPattern,
      SourceArn: { 'Fn::GetAtt': [logicalIdOf(s, 'bus', 'imagegen'), 'Arn'] },
    });
  });

  it.each(['imagegen-publish-utilization', 'imagegen-reconcile'])('runs %s every minute from the default bus', (fn) => {
    s.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      EventBusName: Match.absent(),
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalIdOf(s, 'function', fn), 'Arn'] } })],
    });
  });
});

describe('functions', () => {
  it('renders each topology function on Node 22 / ARM64 with its memory, timeout and handler', () => {
    for (const spec of s.topology.functions) {
      const props = s.json.Resources[logicalIdOf(s, 'function', spec.name)]!.Properties!;
      expect(props).toMatchObject({
        FunctionName: spec.name,
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        MemorySize: spec.memoryMb,
        Timeout: spec.timeoutSeconds,
        Handler: `index.${spec.handler}`,
      });
    }
  });

  it('gives each function the environment its task reads: names and settings as values, resources as references', () => {
    const ref = (kind: string, name: string) => ({ Ref: logicalIdOf(s, kind, name) });
    const powertools = (service: string) => ({ POWERTOOLS_SERVICE_NAME: service, POWERTOOLS_METRICS_NAMESPACE: 'ImageGen' });
    const recovery = { INFERENCE_RETRIES: '2', RECONCILE_AFTER_SECONDS: '45' };
    // Complete and the reconciler settle attempts through one path: a retry re-invokes the endpoint.
    const settling = (service: string) => ({
      ...powertools(service),
      IMAGES_BUCKET: ref('bucket', 'imagegen-images'),
      TABLE_NAME: ref('table', 'imagegen-coordination'),
      ENDPOINT_NAME: 'imagegen-sdxl',
      REQUEST_TTL_SECONDS: '3600',
      INVOCATION_TIMEOUT_SECONDS: '900',
      ...recovery,
    });
    const environments = Object.fromEntries(
      s.topology.functions.map((spec) => [spec.name, (s.json.Resources[logicalIdOf(s, 'function', spec.name)]!.Properties!.Environment as { Variables: unknown }).Variables]),
    );
    expect(environments).toEqual({
      'imagegen-resolve': {
        ...powertools('imagegen-resolve'),
        IMAGES_BUCKET: ref('bucket', 'imagegen-images'),
        TABLE_NAME: ref('table', 'imagegen-coordination'),
        ENDPOINT_NAME: 'imagegen-sdxl',
        MODEL_ID: 'stabilityai/stable-diffusion-xl-base-1.0@neuronx-1024x1024',
        SUPPORTED_SIZES: '1024x1024',
        REQUEST_TTL_SECONDS: '3600',
        INVOCATION_TIMEOUT_SECONDS: '900',
        ...recovery,
      },
      'imagegen-complete': settling('imagegen-complete'),
      'imagegen-reconcile': settling('imagegen-reconcile'),
      'imagegen-report-failure': {
        ...powertools('imagegen-report-failure'),
        EVENT_BUS_NAME: { 'Fn::GetAtt': [logicalIdOf(s, 'bus', 'imagegen'), 'Arn'] },
      },
      'imagegen-publish-utilization': {
        ...powertools('imagegen-publish-utilization'),
        ENDPOINT_NAME: 'imagegen-sdxl',
        VARIANT_NAME: 'AllTraffic',
        UTILIZATION_NAMESPACE: 'ImageGen',
        UTILIZATION_METRIC: 'UtilizationRate',
        ARRIVALS_METRIC: 'InferencesStarted',
        CONCURRENCY_PER_INSTANCE: '12',
        INFERENCE_SECONDS: '9.7',
        DRAIN_SECONDS: '180',
        FORECAST_HORIZON_MINUTES: '5',
        FORECAST_WINDOW_MINUTES: '4',
        FORECAST_NOISE_SHARE: '0.03',
      },
    });
  });

  it.each(['imagegen-publish-utilization', 'imagegen-reconcile'])('sets asynchronous retries from the topology: none for %s, whose next scheduled run is the retry', (fn) => {
    s.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalIdOf(s, 'function', fn) },
      MaximumRetryAttempts: 0,
    });
  });

  it('gives Complete and the reconciler the retry count and the time of the first look', () => {
    for (const fn of ['imagegen-resolve', 'imagegen-complete', 'imagegen-reconcile']) {
      s.template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: fn,
        Environment: { Variables: Match.objectLike({ INFERENCE_RETRIES: '2', RECONCILE_AFTER_SECONDS: '45', ENDPOINT_NAME: 'imagegen-sdxl' }) },
      });
    }
  });
});

describe('least privilege', () => {
  const object = (prefix: string) => `${bucketArn()}/${prefix}abc`;

  it('resolve writes images/ only: not inputs/ (the model input travels inline) nor anything the endpoint or complete writes', () => {
    const st = functionStatements('imagegen-resolve');
    expect(allows(st, 's3:PutObject', object(prefixes.inputs))).toBe(false);
    expect(allows(st, 's3:PutObject', object(prefixes.images))).toBe(true);
    expect(allows(st, 's3:PutObject', object(prefixes.asyncOutput))).toBe(false);
    expect(allows(st, 's3:GetObject', object(prefixes.asyncOutput))).toBe(false);
    expect(allows(st, 's3:PutObject', object(prefixes.asyncFailures))).toBe(false);
    expect(allows(st, 's3:DeleteObject', object(prefixes.images))).toBe(false);
    expect(allows(st, 'sagemaker:InvokeEndpointAsync', '${AWS::Partition}')).toBe(false);
  });

  it.each(['imagegen-complete', 'imagegen-reconcile'])('%s reads endpoint output, writes images and invokes only the endpoint (a retry), but never touches inputs', (name) => {
    const st = functionStatements(name);
    expect(allows(st, 's3:GetObject', object(prefixes.asyncOutput))).toBe(true);
    expect(allows(st, 's3:GetObject', object(prefixes.asyncFailures))).toBe(true);
    expect(allows(st, 's3:PutObject', object(prefixes.images))).toBe(true);
    expect(allows(st, 's3:PutObject', object(prefixes.inputs))).toBe(false);
    expect(allows(st, 's3:GetObject', object(prefixes.inputs))).toBe(false);
    expect(allows(st, 's3:PutObject', object(prefixes.asyncOutput))).toBe(false);
    expect(allowedActions(st).filter((a) => a.startsWith('sagemaker:'))).toEqual(['sagemaker:InvokeEndpointAsync']);
    const invoke = st.find((x) => x.Action === 'sagemaker:InvokeEndpointAsync')!;
    expect(render(invoke.Resource)).toBe('arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:endpoint/imagegen-sdxl');
  });

  // S3 answers a GET or HEAD of a missing key 404 only to a caller allowed s3:ListBucket on the bucket
  // for that request; its request context has no s3:prefix, and IAM evaluates a condition on an
  // absent key as false. So the grant must hold without a condition, or every miss reads as 403.
  it('may list the bucket unconditionally, so a missing object reads as 404 rather than 403', () => {
    for (const name of ['imagegen-resolve', 'imagegen-complete', 'imagegen-reconcile']) {
      const list = functionStatements(name).filter((st) => st.Action === 's3:ListBucket');
      expect({ name, statements: list.length, resource: render(list[0]?.Resource), condition: list[0]?.Condition }).toEqual({ name, statements: 1, resource: bucketArn(), condition: undefined });
    }
  });

  it('grants each function only the action families its topology permissions name', () => {
    const families = (name: string) => [...new Set(allowedActions(functionStatements(name)).map((a) => a.split(':')[0]))].sort();
    // sqs: functions invoked asynchronously (by SNS or a schedule) send failed events to their own DLQ.
    expect(families('imagegen-resolve')).toEqual(['cloudwatch', 'dynamodb', 'logs', 's3', 'sagemaker', 'states']);
    expect(families('imagegen-complete')).toEqual(['cloudwatch', 'dynamodb', 'logs', 's3', 'sagemaker', 'sqs', 'states']);
    expect(families('imagegen-reconcile')).toEqual(['cloudwatch', 'dynamodb', 'logs', 's3', 'sagemaker', 'sqs', 'states']);
    expect(families('imagegen-report-failure')).toEqual(['cloudwatch', 'events', 'logs']);
    expect(families('imagegen-publish-utilization')).toEqual(['cloudwatch', 'logs', 'sagemaker', 'sqs']);
    const sqs = functionStatements('imagegen-complete').filter((st) => allowedActions([st]).some((a) => a.startsWith('sqs:')));
    const dlqId = Object.entries(s.json.Resources).find(([, r]) => r.Metadata?.['imagegen:supports'] === 'function/imagegen-complete#async-dlq')![0];
    expect(sqs.map((st) => render(st.Resource))).toEqual([`\${${dlqId}.Arn}`]);
  });

  it('scopes task-token calls to the state machine and endpoint calls to the endpoint', () => {
    const st = functionStatements('imagegen-resolve');
    const smArn = st.find((x) => Array.isArray(x.Action) && x.Action.includes('states:SendTaskSuccess'))!;
    expect(render(smArn.Resource)).toBe('arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:imagegen-request');
    const invoke = st.find((x) => x.Action === 'sagemaker:InvokeEndpointAsync')!;
    expect(render(invoke.Resource)).toBe('arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:endpoint/imagegen-sdxl');
  });

  it('limits PutMetricData to the ImageGen namespace; only publish-utilization reads metrics', () => {
    for (const spec of s.topology.functions) {
      const st = functionStatements(spec.name);
      const put = st.find((x) => x.Action === 'cloudwatch:PutMetricData')!;
      expect(put.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': ['ImageGen'] } });
      expect(allowedActions(st).includes('cloudwatch:GetMetricData')).toBe(spec.name === 'imagegen-publish-utilization');
    }
  });

  it('lets publish-utilization describe the endpoint (its instance count) and nothing else of SageMaker', () => {
    const st = functionStatements('imagegen-publish-utilization');
    const describe = st.find((x) => x.Action === 'sagemaker:DescribeEndpoint')!;
    expect(render(describe.Resource)).toBe('arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:endpoint/imagegen-sdxl');
    expect(allowedActions(st).filter((a) => a.startsWith('sagemaker:'))).toEqual(['sagemaker:DescribeEndpoint']);
  });

  it('lets report-failure put events on the imagegen bus only', () => {
    const st = functionStatements('imagegen-report-failure');
    expect(allows(st, 'events:PutEvents', `\${${logicalIdOf(s, 'bus', 'imagegen')}.Arn}`)).toBe(true);
    expect(allows(st, 'events:PutEvents', 'arn:aws:events:us-east-1:111111111111:event-bus/default')).toBe(false);
  });
});

describe('storage', () => {
  it('encrypts, blocks public access, enforces TLS, logs access and expires transient prefixes', () => {
    const spec = s.topology.buckets[0]!;
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: { DestinationBucketName: { Ref: Match.stringLikeRegexp('^AccessLogs') }, LogFilePrefix: `${spec.name}/` },
      LifecycleConfiguration: {
        Rules: Match.arrayWith(spec.lifecycle.map((l) => Match.objectLike({ Prefix: l.prefix, ExpirationInDays: l.days, Status: 'Enabled' }))),
      },
    });
    const policy = resourcesOfType('AWS::S3::BucketPolicy').find(([, r]) => JSON.stringify(r.Properties).includes(logicalIdOf(s, 'bucket', spec.name)))!;
    expect(JSON.stringify(policy[1].Properties)).toContain('"aws:SecureTransport":"false"');
  });

  it('creates the coordination table with pk/sk, on-demand billing, TTL and point-in-time recovery', () => {
    const spec = s.topology.tables[0]!;
    s.template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: spec.name,
      KeySchema: [
        { AttributeName: spec.partitionKey, KeyType: 'HASH' },
        { AttributeName: spec.sortKey, KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: spec.ttlAttribute, Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });
});

describe('notification topics', () => {
  it('encrypts with a rotating key and lets only the endpoint role publish, over TLS', () => {
    s.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const roleId = Object.entries(s.json.Resources).find(([id, r]) => r.Type === 'AWS::IAM::Role' && id.includes('ExecutionRole'))![0];
    for (const topic of s.topology.topics) {
      const topicId = logicalIdOf(s, 'topic', topic.name);
      s.template.hasResourceProperties('AWS::SNS::Topic', { TopicName: topic.name, KmsMasterKeyId: Match.anyValue() });
      s.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [{ Ref: topicId }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sns:Publish',
              Principal: { AWS: '*' },
              Condition: { ArnNotEquals: { 'aws:PrincipalArn': [{ 'Fn::GetAtt': [roleId, 'Arn'] }] } },
            }),
          ]),
        },
      });
    }
  });

  it('subscribes complete to both topics with a dead-letter queue', () => {
    for (const topic of s.topology.topics) {
      for (const sub of topic.subscriptions) {
        s.template.hasResourceProperties('AWS::SNS::Subscription', {
          Protocol: 'lambda',
          TopicArn: { Ref: logicalIdOf(s, 'topic', topic.name) },
          Endpoint: { 'Fn::GetAtt': [logicalIdOf(s, 'function', sub.function), 'Arn'] },
          RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SubscriptionDlq'), 'Arn'] } },
        });
      }
    }
  });
});

describe('SageMaker async endpoint', () => {
  const ep = () => s.topology.endpoints[0]!;

  it('runs the Neuronx container on the model artifacts given as a stack parameter, one model copy per 2 NeuronCores', () => {
    s.template.hasParameter('ModelArtifactsS3Uri', { Type: 'String', AllowedPattern: Match.stringLikeRegexp('tar') });
    // ml.inf2.48xlarge: 12 Inferentia2 chips, 24 NeuronCores, so 12 workers.
    s.template.hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: {
        Image: ep().container.image,
        ModelDataUrl: { Ref: 'ModelArtifactsS3Uri' },
        Environment: { SAGEMAKER_MODEL_SERVER_WORKERS: '12', NEURON_RT_NUM_CORES: '2', SAGEMAKER_MODEL_SERVER_TIMEOUT_SECONDS: '900' },
      },
    });
  });

  it('never names a Hub model: the toolkit would download HF_MODEL_ID instead of loading /opt/ml/model', () => {
    const [, model] = resourcesOfType('AWS::SageMaker::Model')[0]!;
    const environment = (model.Properties!.PrimaryContainer as { Environment: Record<string, string> }).Environment;
    expect(Object.keys(environment)).not.toContain('HF_MODEL_ID');
    expect(Object.keys(environment)).not.toContain('HF_TASK');
  });

  it('gives each instance a volume and the time to download the archive and start the container', () => {
    s.template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [
        Match.objectLike({ VolumeSizeInGB: 128, ModelDataDownloadTimeoutInSeconds: 1800, ContainerStartupHealthCheckTimeoutInSeconds: 1800 }),
      ],
    });
  });

  it('configures async inference: output and failure paths, both topics, one request per model copy', () => {
    const bucketId = logicalIdOf(s, 'bucket', ep().async.output.bucket);
    s.template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ VariantName: 'AllTraffic', InstanceType: 'ml.inf2.48xlarge', InitialInstanceCount: 1 })],
      AsyncInferenceConfig: {
        ClientConfig: { MaxConcurrentInvocationsPerInstance: 12 },
        OutputConfig: {
          S3OutputPath: { 'Fn::Join': ['', ['s3://', { Ref: bucketId }, `/${prefixes.asyncOutput}`]] },
          S3FailurePath: { 'Fn::Join': ['', ['s3://', { Ref: bucketId }, `/${prefixes.asyncFailures}`]] },
          NotificationConfig: {
            SuccessTopic: { Ref: logicalIdOf(s, 'topic', ep().async.successTopic) },
            ErrorTopic: { Ref: logicalIdOf(s, 'topic', ep().async.errorTopic) },
          },
        },
      },
    });
  });

  it('creates the endpoint only after its execution policy, which can publish, read inputs and write outputs', () => {
    const endpoint = s.json.Resources[logicalIdOf(s, 'endpoint', ep().name)]!;
    expect(endpoint.Properties!.EndpointName).toBe(ep().name);
    const policyId = endpoint.DependsOn!.find((d) => d.includes('ExecutionPolicy'))!;
    const policy = s.json.Resources[policyId]!.Properties!;
    const st = (policy.PolicyDocument as { Statement: import('./iam').Statement[] }).Statement;
    const object = (prefix: string) => `${bucketArn()}/${prefix}x`;
    expect(allows(st, 's3:GetObject', object(prefixes.inputs))).toBe(true);
    expect(allows(st, 's3:PutObject', object(prefixes.asyncOutput))).toBe(true);
    expect(allows(st, 's3:PutObject', object(prefixes.asyncFailures))).toBe(true);
    expect(allows(st, 's3:PutObject', object(prefixes.images))).toBe(false);
    expect(allows(st, 's3:GetObject', object(prefixes.images))).toBe(false);
    for (const topic of s.topology.topics) expect(allows(st, 'sns:Publish', `\${${logicalIdOf(s, 'topic', topic.name)}}`)).toBe(true);
    expect(allows(st, 'kms:GenerateDataKey', `\${${resourcesOfType('AWS::KMS::Key')[0]![0]}.Arn}`)).toBe(true);
    expect(allows(st, 'ecr:BatchGetImage', 'arn:${AWS::Partition}:ecr:us-east-1:763104351884:repository/huggingface-pytorch-inference-neuronx')).toBe(true);
  });
});

describe('auto scaling', () => {
  it('registers the variant with min 0 and the scheduled actions from context, in their time zone', () => {
    s.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ServiceNamespace: 'sagemaker',
      ResourceId: 'endpoint/imagegen-sdxl/variant/AllTraffic',
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      MinCapacity: 0,
      MaxCapacity: s.config.imagegen.maxInstances,
      ScheduledActions: [
        {
          ScheduledActionName: nightly.name,
          Schedule: nightly.schedule,
          Timezone: nightly.timezone,
          ScalableTargetAction: { MinCapacity: 0, MaxCapacity: 0 },
        },
      ],
    });
  });

  it('tracks ImageGen/UtilizationRate itself per endpoint at the configured target and cooldowns', () => {
    s.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: 0.8,
        ScaleOutCooldown: 60,
        ScaleInCooldown: 120,
        // The published metric itself: no FILL(…, 0) reading the minutes not yet published as idle.
        CustomizedMetricSpecification: Match.exact({
          Namespace: 'ImageGen',
          MetricName: 'UtilizationRate',
          Dimensions: [{ Name: 'EndpointName', Value: 'imagegen-sdxl' }],
          Statistic: 'Average',
        }),
      },
    });
  });

  const stepPolicy = (name: string) => resourcesOfType('AWS::ApplicationAutoScaling::ScalingPolicy').find(([, r]) => r.Properties!.PolicyName === name)!;
  const alarmActing = (policyId: string) => resourcesOfType('AWS::CloudWatch::Alarm').find(([, r]) => JSON.stringify(r.Properties!.AlarmActions) === JSON.stringify([{ Ref: policyId }]))!;

  it('scales out of zero by steps keyed on the backlog that built up with no instance, within a minute', () => {
    const [policyId, policy] = stepPolicy('imagegen-sdxl-scale-from-zero');
    const config = policy.Properties!.StepScalingPolicyConfiguration as { StepAdjustments: { MetricIntervalLowerBound: number; MetricIntervalUpperBound?: number; ScalingAdjustment: number }[] };
    expect(policy.Properties).toMatchObject({ PolicyType: 'StepScaling', StepScalingPolicyConfiguration: { AdjustmentType: 'ChangeInCapacity', MetricAggregationType: 'Average', Cooldown: 480 } });
    const steps = config.StepAdjustments;
    // Bounds are relative to the threshold (1): +1 from a backlog of 1, …, +168 from 10000.
    expect(steps[0]).toEqual({ MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 249, ScalingAdjustment: 1 });
    expect(steps.at(-1)).toEqual({ MetricIntervalLowerBound: 9999, ScalingAdjustment: 168 });
    for (let i = 1; i < steps.length; i++) {
      expect(steps[i]!.MetricIntervalLowerBound).toBe(steps[i - 1]!.MetricIntervalUpperBound);
      expect(steps[i]!.ScalingAdjustment).toBeGreaterThan(steps[i - 1]!.ScalingAdjustment);
    }
    const [, alarm] = alarmActing(policyId);
    expect(alarm.Properties).toMatchObject({
      AlarmName: 'imagegen-sdxl-has-backlog-without-capacity',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      TreatMissingData: 'notBreaching',
    });
    const metrics = alarm.Properties!.Metrics as Record<string, unknown>[];
    expect(metrics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Expression: 'IF(hbwc >= 1, backlog, 0)', ReturnData: true }),
        expect.objectContaining({
          Id: 'hbwc',
          MetricStat: { Metric: { Namespace: 'AWS/SageMaker', MetricName: 'HasBacklogWithoutCapacity', Dimensions: [{ Name: 'EndpointName', Value: 'imagegen-sdxl' }] }, Period: 60, Stat: 'Average' },
          ReturnData: false,
        }),
        expect.objectContaining({
          Id: 'backlog',
          MetricStat: { Metric: { Namespace: 'AWS/SageMaker', MetricName: 'ApproximateBacklogSize', Dimensions: [{ Name: 'EndpointName', Value: 'imagegen-sdxl' }] }, Period: 60, Stat: 'Maximum' },
          ReturnData: false,
        }),
      ]),
    );
  });

  it('scales in by percentage steps when utilization is well below target for 3 minutes, leaving the last instance to target tracking', () => {
    const [policyId, policy] = stepPolicy('imagegen-sdxl-step-scale-in');
    expect(policy.Properties).toMatchObject({
      PolicyType: 'StepScaling',
      StepScalingPolicyConfiguration: {
        AdjustmentType: 'PercentChangeInCapacity',
        MetricAggregationType: 'Average',
        Cooldown: 240,
        // Threshold 0.48 (60 % of the 0.8 target): below it keep 60 %, below 0.4 keep 50 %, …
        StepAdjustments: [
          { MetricIntervalUpperBound: 0, MetricIntervalLowerBound: -0.08, ScalingAdjustment: -40 },
          { MetricIntervalUpperBound: -0.08, MetricIntervalLowerBound: -0.16, ScalingAdjustment: -50 },
          { MetricIntervalUpperBound: -0.16, MetricIntervalLowerBound: -0.24, ScalingAdjustment: -60 },
          { MetricIntervalUpperBound: -0.24, MetricIntervalLowerBound: -0.32, ScalingAdjustment: -70 },
          { MetricIntervalUpperBound: -0.32, MetricIntervalLowerBound: -0.4, ScalingAdjustment: -80 },
          { MetricIntervalUpperBound: -0.4, ScalingAdjustment: -90 },
        ],
      },
    });
    const [, alarm] = alarmActing(policyId);
    expect(alarm.Properties).toMatchObject({
      AlarmName: 'imagegen-sdxl-low-utilization',
      Threshold: 0.48,
      ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      TreatMissingData: 'notBreaching',
    });
    expect(alarm.Properties!.Metrics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Expression: 'IF(FILL(instances, REPEAT) >= 2, utilization, 0.48)', ReturnData: true }),
        expect.objectContaining({ Id: 'utilization', MetricStat: expect.objectContaining({ Metric: expect.objectContaining({ Namespace: 'ImageGen', MetricName: 'UtilizationRate' }), Stat: 'Average' }) }),
        expect.objectContaining({ Id: 'instances', MetricStat: expect.objectContaining({ Metric: expect.objectContaining({ MetricName: 'CPUUtilization' }), Stat: 'SampleCount' }) }),
      ]),
    );
  });

  it('scales out by percentage steps when 2 datapoints reach 3× the utilization target, the larger picking the step', () => {
    const [policyId, policy] = stepPolicy('imagegen-sdxl-step-scale-out');
    expect(policy.Properties).toMatchObject({
      PolicyType: 'StepScaling',
      StepScalingPolicyConfiguration: {
        AdjustmentType: 'PercentChangeInCapacity',
        MetricAggregationType: 'Maximum',
        Cooldown: 480,
      },
    });
    // Threshold 2.4 (3 × 0.8): from 3× keep 3× the capacity (+200 %), from 4× +300 %, … from 384× +38300 %.
    const steps = (policy.Properties!.StepScalingPolicyConfiguration as { StepAdjustments: unknown[] }).StepAdjustments;
    expect(steps.slice(0, 3)).toEqual([
      { MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 0.8, ScalingAdjustment: 200 },
      { MetricIntervalLowerBound: 0.8, MetricIntervalUpperBound: 2.4, ScalingAdjustment: 300 },
      { MetricIntervalLowerBound: 2.4, MetricIntervalUpperBound: 4, ScalingAdjustment: 500 },
    ]);
    expect(steps.at(-1)).toEqual({ MetricIntervalLowerBound: 304.8, ScalingAdjustment: 38300 });
    expect(steps.length).toBeLessThanOrEqual(20);
    const [, alarm] = alarmActing(policyId);
    expect(alarm.Properties).toMatchObject({
      AlarmName: 'imagegen-sdxl-high-utilization',
      Threshold: 2.4,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
    });
    // The published metric itself, no metric math: a minute not yet published is no datapoint, never a 0.
    expect(alarm.Properties).toMatchObject({ Namespace: 'ImageGen', MetricName: 'UtilizationRate', Dimensions: [{ Name: 'EndpointName', Value: 'imagegen-sdxl' }], Statistic: 'Average', Period: 60 });
    expect(alarm.Properties!.Metrics).toBeUndefined();
  });

  it('tells the utilization publisher the drain horizon and the scaling spec\'s arrivals forecast', () => {
    const { forecast } = s.topology.endpoints[0]!.scaling.targetTracking;
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'imagegen-publish-utilization',
      Environment: {
        Variables: Match.objectLike({
          DRAIN_SECONDS: String(s.config.imagegen.drainSeconds),
          FORECAST_HORIZON_MINUTES: String(forecast.horizonPeriods),
          FORECAST_WINDOW_MINUTES: String(forecast.windowPeriods),
          FORECAST_NOISE_SHARE: String(forecast.noiseSharePerPeriod),
        }),
      },
    });
  });
});

describe('observability', () => {
  it('has the alarms docs/deploy.md counts: operators\' alarms and the step policies\' three', () => {
    const deploy = readFileSync(path.join(REPO, 'docs/deploy.md'), 'utf8');
    const [, total, operators, dlqs] = /(\d+) alarms: (\d+) for operators\s+\(each of the (\d+) DLQs/.exec(deploy) ?? [];
    const alarms = resourcesOfType('AWS::CloudWatch::Alarm').length;
    expect({ total: Number(total), operators: Number(operators), dlqs: Number(dlqs) }).toEqual({ total: alarms, operators: alarms - 3, dlqs: resourcesOfType('AWS::SQS::Queue').length });
  });

  it('alarms on every dead-letter queue, failed executions, failed notifications and a stuck backlog', () => {
    const queues = resourcesOfType('AWS::SQS::Queue').map(([id]) => id);
    for (const q of queues) {
      s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [q, 'QueueName'] } }],
      });
    }
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/States', MetricName: 'ExecutionsFailed' });
    for (const topic of s.topology.topics) {
      s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SNS',
        MetricName: 'NumberOfNotificationsFailed',
        Dimensions: [{ Name: 'TopicName', Value: { 'Fn::GetAtt': [logicalIdOf(s, 'topic', topic.name), 'TopicName'] } }],
      });
    }
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'HasBacklogWithoutCapacity',
      Statistic: 'Maximum',
      EvaluationPeriods: 15,
      AlarmActions: Match.absent(),
    });
  });

  it('has a dashboard with requests, cache hit ratio, utilization, instances, backlog, latency percentiles and failures by code', () => {
    const [, dashboard] = resourcesOfType('AWS::CloudWatch::Dashboard')[0]!;
    const body = JSON.stringify(dashboard.Properties!.DashboardBody);
    for (const needle of ['ExecutionsStarted', 'CacheHits', 'CacheMisses', 'InferencesStarted', 'UtilizationRate', 'CPUUtilization', 'SampleCount', 'ApproximateBacklogSize', 'p95', 'p50', 'stats count(*) by code']) {
      expect(body).toContain(needle);
    }
  });
});

describe('cdk-nag', () => {
  it('ran the AwsSolutions checks and left no unacknowledged finding', () => {
    const report = JSON.parse(readFileSync(path.join(s.outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName: string; conclusion: string; violations: unknown[] }[];
    };
    const nag = report.pluginReports.find((r) => r.pluginName === 'AwsSolutions')!;
    expect(nag).toBeDefined();
    expect(nag.violations).toEqual([]);
    expect(nag.conclusion).toBe('success');
  });

  it('gives a reason for every acknowledgement and names a single rule in each', () => {
    const acks = s.stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules').map((m) => m.data as unknown));
    // CDK records its own acknowledgements too (CloudFormation-Validate::…); ours are the AwsSolutions ones.
    const entries = (acks as Record<string, string>[]).flatMap((a) => Object.entries(a)).filter(([id]) => id.startsWith('AwsSolutions'));
    expect(entries.length).toBeGreaterThan(0);
    for (const [id, reason] of entries) {
      expect(id).toMatch(/^AwsSolutions::AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
      expect(reason.length).toBeGreaterThan(40);
    }
  });
});
