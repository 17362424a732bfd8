/**
 * Acknowledged means durable, service by service: `imagegen serve` in a child process answers one
 * write of each kind, is killed with SIGKILL at once (no shutdown, nothing flushed), and a restart on
 * the same data directory finds every one of them. The stand-in model is too slow to finish before
 * the kill, so the accepted inference and the waiting execution are still in flight when it comes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient, GetMetricDataCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeTimeToLiveCommand, DynamoDBClient, GetItemCommand, PutItemCommand, ScanCommand, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { DescribeRuleCommand, EventBridgeClient, PutEventsCommand, PutRuleCommand } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { InvokeEndpointAsyncCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { DescribeExecutionCommand, ListExecutionsCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { ListTopicsCommand, SNSClient, CreateTopicCommand } from '@aws-sdk/client-sns';
import { freePort } from '../../local/shared/ports';
import { ServeProcess } from '../../bench/crash';

jest.setTimeout(180_000);

const STATE_MACHINE = 'arn:aws:states:us-east-1:000000000000:stateMachine:imagegen-request';
const TABLE = 'imagegen-coordination';
const BUCKET = 'imagegen-images';

describe('what the local cloud acknowledged survives kill -9', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'imagegen-durability-'));
  let serve: ServeProcess;
  let clients: ReturnType<typeof sdk>;
  const acknowledged: { outputLocation?: string | undefined; executionArn?: string | undefined; metricTime?: Date; taskOutput?: string } = {};

  function sdk(port: number) {
    const config = { endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
    return {
      s3: new S3Client({ ...config, forcePathStyle: true }),
      ddb: new DynamoDBClient(config),
      cloudwatch: new CloudWatchClient(config),
      sns: new SNSClient(config),
      events: new EventBridgeClient(config),
      sagemaker: new SageMakerRuntimeClient(config),
      sfn: new SFNClient(config),
    };
  }

  beforeAll(async () => {
    const port = await freePort();
    // A model slower than the test: the inference and the execution waiting for it are in flight at the kill.
    serve = new ServeProcess(port, dataDir, ['--inference-ms', '600000', '--startup-seconds', '0']);
    await serve.start();
    clients = sdk(port);
    const { s3, ddb, cloudwatch, sns, events, sagemaker, sfn } = clients;

    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'durability/probe.txt', Body: 'written before the kill' }));
    await ddb.send(new PutItemCommand({ TableName: TABLE, Item: { pk: { S: 'durability#probe' }, sk: { S: 'item' }, n: { N: '7' } } }));
    await ddb.send(new UpdateTimeToLiveCommand({ TableName: TABLE, TimeToLiveSpecification: { Enabled: false, AttributeName: 'expiresAt' } }));
    acknowledged.metricTime = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    await cloudwatch.send(new PutMetricDataCommand({ Namespace: 'Durability', MetricData: [{ MetricName: 'Probe', Value: 42, Timestamp: acknowledged.metricTime }] }));
    await sns.send(new CreateTopicCommand({ Name: 'durability-probe' }));
    await events.send(new PutRuleCommand({ Name: 'durability-probe', EventBusName: 'imagegen', EventPattern: '{"source":["durability.probe"]}' }));
    const invoked = await sagemaker.send(
      new InvokeEndpointAsyncCommand({
        EndpointName: 'imagegen-sdxl',
        InferenceId: 'durability-probe',
        ContentType: 'application/json',
        Body: Buffer.from(JSON.stringify({ inputs: 'a lighthouse', parameters: { width: 256, height: 256, num_inference_steps: 1, seed: 1 } })),
      }),
    );
    acknowledged.outputLocation = invoked.OutputLocation;

    // A request waits in Resolve for its inference; its task token is completed from outside.
    await events.send(new PutEventsCommand({ Entries: [{ EventBusName: 'imagegen', Source: 'durability.test', DetailType: 'Image Generation Requested', Detail: JSON.stringify({ requestId: 'durability-1', prompt: 'a harbour at dusk' }) }] }));
    const token = await eventually(async () => {
      const scanned = await ddb.send(new ScanCommand({ TableName: TABLE, FilterExpression: 'begins_with(sk, :w)', ExpressionAttributeValues: { ':w': { S: 'waiter#' } } }));
      return scanned.Items?.[0]?.taskToken?.S;
    });
    acknowledged.executionArn = (await sfn.send(new ListExecutionsCommand({ stateMachineArn: STATE_MACHINE }))).executions?.[0]?.executionArn;
    acknowledged.taskOutput = JSON.stringify({ requestId: 'durability-1', completedFromOutside: true });
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: acknowledged.taskOutput }));

    await serve.kill();
    for (const client of Object.values(clients)) client.destroy();
    // The restarted endpoint's model is quick: the accepted inference now finishes.
    serve.args = ['--inference-ms', '50', '--startup-seconds', '0'];
    await serve.start();
    clients = sdk(port);
  });

  afterAll(async () => {
    for (const client of Object.values(clients ?? {})) client.destroy();
    await serve?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('S3: an object whose PUT was answered', async () => {
    const object = await clients.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'durability/probe.txt' }));
    expect(await object.Body?.transformToString()).toBe('written before the kill');
  });

  it('DynamoDB: an item whose PutItem was answered, and the TTL setting UpdateTimeToLive changed', async () => {
    const item = await clients.ddb.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'durability#probe' }, sk: { S: 'item' } }, ConsistentRead: true }));
    expect(item.Item?.n).toEqual({ N: '7' });
    const ttl = await clients.ddb.send(new DescribeTimeToLiveCommand({ TableName: TABLE }));
    expect(ttl.TimeToLiveDescription?.TimeToLiveStatus).toBe('DISABLED');
  });

  it('CloudWatch: a data point whose PutMetricData was answered', async () => {
    const start = acknowledged.metricTime as Date;
    const data = await clients.cloudwatch.send(
      new GetMetricDataCommand({
        StartTime: start,
        EndTime: new Date(start.getTime() + 60_000),
        MetricDataQueries: [{ Id: 'p', MetricStat: { Metric: { Namespace: 'Durability', MetricName: 'Probe' }, Period: 60, Stat: 'Maximum' } }],
      }),
    );
    expect(data.MetricDataResults?.[0]?.Values).toEqual([42]);
  });

  it('SNS and EventBridge: a topic and a rule created through the API', async () => {
    const topics = await clients.sns.send(new ListTopicsCommand({}));
    expect(topics.Topics?.map((t) => t.TopicArn)).toContain('arn:aws:sns:us-east-1:000000000000:durability-probe');
    const rule = await clients.events.send(new DescribeRuleCommand({ Name: 'durability-probe', EventBusName: 'imagegen' }));
    expect(rule.EventPattern).toBe('{"source":["durability.probe"]}');
  });

  it('SageMaker: an inference answered 202 runs after the restart, writing the output location it was given', async () => {
    const [, key] = /^s3:\/\/[^/]+\/(.+)$/.exec(acknowledged.outputLocation ?? '') ?? [];
    const head = await eventually(() => clients.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })).catch(() => undefined), 60_000);
    expect(head.ContentLength).toBeGreaterThan(0);
  });

  it('Step Functions: a SendTaskSuccess answered before the kill completes its execution with that output', async () => {
    const executionArn = acknowledged.executionArn as string;
    const described = await eventually(async () => {
      const execution = await clients.sfn.send(new DescribeExecutionCommand({ executionArn }));
      return execution.status === 'RUNNING' ? undefined : execution;
    }, 60_000);
    expect(described.status).toBe('SUCCEEDED');
    expect(described.output).toBe(acknowledged.taskOutput);
  });
});

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`nothing after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
