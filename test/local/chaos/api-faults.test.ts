/**
 * API faults through the real SDK v3 clients: an injected error reaches whichever caller made the
 * call — a producer through the edge, or the functions' direct DynamoDB endpoint — in the service's
 * own wire shape, so each SDK raises the documented exception. And `/_imagegen/chaos/faults`: read,
 * replaced whole or refused naming the field, and never changed from a foreign origin.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, GetItemCommand, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient, TooManyRequestsException } from '@aws-sdk/client-lambda';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { InvokeEndpointAsyncCommand, SageMakerRuntimeClient, ServiceUnavailable } from '@aws-sdk/client-sagemaker-runtime';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient, ThrottledException } from '@aws-sdk/client-sns';
import { LocalCloud } from '../../../local/cloud';

jest.setTimeout(60_000);

const TABLE = 'imagegen-coordination';
const BUCKET = 'imagegen-images';

describe('API faults in the local cloud', () => {
  let cloud: LocalCloud;
  let dataDir: string;
  const log: string[] = [];
  // One attempt: the SDK's own retries would absorb a fault drawn with probability < 1, as on AWS.
  const config = () => ({ endpoint: cloud.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'imagegen-api-faults-'));
    cloud = await LocalCloud.start({ port: 0, dataDir, log: (line) => log.push(line) });
  });
  afterAll(async () => {
    await cloud?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  afterEach(() => cloud.faults.replace({ rules: [] }));

  const fault = (service: string, statusCode: number, code: string, operation?: string) =>
    cloud.faults.replace({ seed: 1, rules: [{ service, ...(operation ? { operation } : {}), error: { statusCode, code } }] });

  it('answers S3 with its XML error, on the operation named only', async () => {
    const s3 = new S3Client({ ...config(), forcePathStyle: true });
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'chaos/a.txt', Body: 'a' }));
    fault('s3', 500, 'InternalError', 'GetObject');
    const error = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'chaos/a.txt' })).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'InternalError', $fault: 'server', $metadata: { httpStatusCode: 500 } });
    // PutObject is not named by the rule: it goes through.
    await expect(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'chaos/b.txt', Body: 'b' }))).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } });
    expect(log).toContain('chaos: rule 0 answered s3 GetObject with 500 InternalError');
  });

  it('throttles DynamoDB for every caller: through the edge and on the direct endpoint the functions use', async () => {
    fault('dynamodb', 400, 'ProvisionedThroughputExceededException');
    for (const endpoint of [cloud.url, cloud.services.dynamodb.directUrl]) {
      const dynamodb = new DynamoDBClient({ ...config(), endpoint });
      const error = await dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'x' }, sk: { S: 'y' } } })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProvisionedThroughputExceededException);
      expect(error).toMatchObject({ $metadata: { httpStatusCode: 400 } });
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(cloud.faults.fired()).toEqual([2]);
    cloud.faults.replace({ rules: [] });
    const direct = new DynamoDBClient({ ...config(), endpoint: cloud.services.dynamodb.directUrl });
    await expect(direct.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'x' }, sk: { S: 'y' } } }))).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } });
  });

  it('answers SNS (Query) with its XML error', async () => {
    fault('sns', 400, 'Throttled', 'Publish');
    const sns = new SNSClient(config());
    const error = await sns.send(new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:000000000000:imagegen-inference-failed', Message: '{}' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThrottledException);
  });

  it('answers the SageMaker runtime (rest-json) with x-amzn-errortype', async () => {
    fault('sagemaker', 503, 'ServiceUnavailable', 'InvokeEndpointAsync');
    const runtime = new SageMakerRuntimeClient(config());
    const error = await runtime.send(new InvokeEndpointAsyncCommand({ EndpointName: 'imagegen-sdxl', InputLocation: 's3://imagegen-images/inputs/x.json' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceUnavailable);
  });

  it('answers Lambda (rest-json) with its modelled exception', async () => {
    fault('lambda', 429, 'TooManyRequestsException', 'Invoke');
    const lambda = new LambdaClient(config());
    const error = await lambda.send(new InvokeCommand({ FunctionName: 'imagegen-report-failure', Payload: '{}' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TooManyRequestsException);
  });

  it.each([
    ['stepfunctions', 400, 'ThrottlingException', () => new SFNClient(config()).send(new ListExecutionsCommand({ stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:imagegen-request' }))],
    ['events', 500, 'InternalException', () => new EventBridgeClient(config()).send(new PutEventsCommand({ Entries: [{ EventBusName: 'imagegen', Source: 'chaos.test', DetailType: 'x', Detail: '{}' }] }))],
    ['cloudwatch', 500, 'InternalServiceFault', () => new CloudWatchClient(config()).send(new PutMetricDataCommand({ Namespace: 'Chaos', MetricData: [{ MetricName: 'm', Value: 1 }] }))],
  ] as const)('answers %s (JSON) with __type, as its SDK reads it', async (service, status, code, call) => {
    fault(service, status, code);
    const error = await call().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: code, $metadata: { httpStatusCode: status } });
  });
});

describe('/_imagegen/chaos/faults', () => {
  let cloud: LocalCloud;
  let dataDir: string;
  let url: string;
  const post = (body: string, headers: Record<string, string> = {}) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'imagegen-chaos-route-'));
    cloud = await LocalCloud.start({ port: 0, dataDir, faults: { seed: 7, rules: [{ service: 'sns', action: 'drop', probability: 0.05 }] } });
    url = `${cloud.url}/_imagegen/chaos/faults`;
  });
  afterAll(async () => {
    await cloud?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('reads the rules put in force at start', async () => {
    const response = await fetch(url);
    expect(response.status).toBe(200);
    await expect(response.json()).resolves.toEqual({ seed: 7, rules: [{ service: 'sns', action: 'drop', probability: 0.05 }] });
  });

  it('replaces them whole with a POST and answers the rules now in force', async () => {
    const response = await post(JSON.stringify({ seed: 9, rules: [{ service: 'lambda', function: 'imagegen-complete', action: 'crash', probability: 0.5 }] }));
    expect(response.status).toBe(200);
    const now = { seed: 9, rules: [{ service: 'lambda', action: 'crash', probability: 0.5, function: 'imagegen-complete' }] };
    await expect(response.json()).resolves.toEqual(now);
    await expect((await fetch(url)).json()).resolves.toEqual(now);
    expect(cloud.faults.current()).toEqual(now);
  });

  it('refuses a rule that cannot apply with 400 naming the field, and keeps the rules in force', async () => {
    await post(JSON.stringify({ seed: 9, rules: [{ service: 'sns', action: 'duplicate', probability: 0.2 }] }));
    const response = await post(JSON.stringify({ rules: [{ service: 'sns', action: 'duplicate' }, { service: 'dynamodb', operation: 'GetItems', error: { statusCode: 400, code: 'ProvisionedThroughputExceededException' } }] }));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toMatch(/^rules\[1\]\.operation: "GetItems" is not an operation dynamodb answers here/);
    await expect((await fetch(url)).json()).resolves.toEqual({ seed: 9, rules: [{ service: 'sns', action: 'duplicate', probability: 0.2 }] });
  });

  it('refuses a POST from a foreign origin, and one that is not JSON, changing nothing', async () => {
    const before = await (await fetch(url)).text();
    const foreign = await post(JSON.stringify({ rules: [] }), { origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    // What a cross-site form could send (no preflight): not JSON, so refused even from an allowed origin.
    const form = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ rules: [] }) });
    expect(form.status).toBe(415);
    const crossSite = await post(JSON.stringify({ rules: [] }), { 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    expect(await (await fetch(url)).text()).toBe(before);
  });

  it('turns fault injection off with an empty rule list', async () => {
    const response = await post(JSON.stringify({ rules: [] }));
    await expect(response.json()).resolves.toEqual({ rules: [] });
    expect(cloud.faults.active).toBe(false);
  });
});

describe('LocalCloud.start with fault rules that cannot apply', () => {
  it('refuses to start, naming the field, and leaves the data directory free for the next start', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'imagegen-chaos-refused-'));
    try {
      await expect(LocalCloud.start({ port: 0, dataDir, faults: { rules: [{ service: 'sns', action: 'drop', probability: 2 }] } })).rejects.toThrow(
        'rules[0].probability: must be a number from 0 to 1, got 2',
      );
      const cloud = await LocalCloud.start({ port: 0, dataDir });
      expect(cloud.faults.active).toBe(false);
      await cloud.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
