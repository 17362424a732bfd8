/**
 * Forged requests against a running local cloud: a web page's cross-origin form POSTs (SNS Publish,
 * CloudWatch PutMetricData), a Query call in an image URL, a DNS-rebinding Host, a foreign CORS
 * preflight, and console actions without the CSRF token. Each is refused with 403 and changes
 * nothing; the same request from an allowed client goes through, so the check that nothing
 * changed is a check that can see a change.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { ListExecutionsCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { LocalCloud } from '../../../local/cloud';
import { send } from './raw-http';

jest.setTimeout(120_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the local cloud refuses what a web page could forge', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'imagegen-forgery-'));
  let cloud: LocalCloud;
  let sfn: SFNClient;
  let cloudwatch: CloudWatchClient;
  let host: string;
  let topicArn: string;
  let stateMachineArn: string;

  beforeAll(async () => {
    cloud = await LocalCloud.start({ port: 0, dataDir, standIn: { inferenceMs: 10 }, instanceStartupSeconds: 0, allowedOrigins: ['http://localhost:3000'] });
    const config = { endpoint: cloud.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
    sfn = new SFNClient(config);
    cloudwatch = new CloudWatchClient(config);
    host = new URL(cloud.url).host;
    topicArn = `arn:aws:sns:us-east-1:000000000000:${cloud.topology.endpoints[0]?.async.successTopic}`;
    stateMachineArn = `arn:aws:states:us-east-1:000000000000:stateMachine:${cloud.topology.stateMachines[0]?.name}`;
  });
  afterAll(async () => {
    sfn?.destroy();
    cloudwatch?.destroy();
    await cloud?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Invocations of the completion function: each SNS Publish to the inference topics runs it once. */
  async function completeInvocations(): Promise<number> {
    const now = Date.now();
    const result = await cloudwatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(now - 10 * 60_000),
        EndTime: new Date(now + 60_000),
        MetricDataQueries: [{ Id: 'i', MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName: 'Invocations', Dimensions: [{ Name: 'FunctionName', Value: 'imagegen-complete' }] }, Period: 60, Stat: 'Sum' } }],
      }),
    );
    return (result.MetricDataResults?.[0]?.Values ?? []).reduce((a, b) => a + b, 0);
  }

  async function utilizationMaximum(): Promise<number | undefined> {
    const now = Date.now();
    const result = await cloudwatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(now - 10 * 60_000),
        EndTime: new Date(now + 60_000),
        MetricDataQueries: [{ Id: 'u', MetricStat: { Metric: { Namespace: 'ImageGen', MetricName: 'UtilizationRate', Dimensions: [{ Name: 'EndpointName', Value: 'imagegen-sdxl' }] }, Period: 60, Stat: 'Maximum' } }],
      }),
    );
    const values = result.MetricDataResults?.[0]?.Values ?? [];
    return values.length === 0 ? undefined : Math.max(...values);
  }

  const publishForm = () => new URLSearchParams({ Action: 'Publish', Version: '2010-03-31', TopicArn: topicArn, Message: JSON.stringify({ eventSource: 'aws:sagemaker', eventName: 'InferenceResult', invocationStatus: 'Completed', inferenceId: 'forged' }) }).toString();
  const form = { 'content-type': 'application/x-www-form-urlencoded' };

  it('refuses a cross-origin form POST that publishes to an inference topic, and publishes nothing', async () => {
    // The endpoint's TestNotification to each of its two topics runs the completion function at start.
    for (let i = 0; i < 50 && (await completeInvocations()) < 2; i++) await sleep(200);
    const before = await completeInvocations();
    expect(before).toBe(2);
    const reply = await send(cloud.url, 'POST', '/', { ...form, host, origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' }, publishForm());
    expect(reply.status).toBe(403);
    expect((JSON.parse(reply.body) as { message: string }).message).toMatch(/Origin "http:\/\/evil.example" is not allowed/);
    const image = await send(cloud.url, 'GET', `/?${publishForm()}`, { host, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' });
    expect(image.status).toBe(403);
    const rebound = await send(cloud.url, 'POST', '/', { ...form, host: `rebind.evil.example:${new URL(cloud.url).port}` }, publishForm());
    expect(rebound.status).toBe(403);
    expect((JSON.parse(rebound.body) as { message: string }).message).toMatch(/Host "rebind.evil.example:\d+" is not this server/);
    await sleep(1500);
    expect(await completeInvocations()).toBe(before);

    // The same call as an SDK sends it (no Origin) is delivered: the completion function runs.
    const accepted = await send(cloud.url, 'POST', '/', { ...form, host }, publishForm());
    expect(accepted.status).toBe(200);
    for (let i = 0; i < 50 && (await completeInvocations()) === before; i++) await sleep(200);
    expect(await completeInvocations()).toBe(before + 1);
  });

  it('refuses a cross-origin PutMetricData for the autoscaler, and the metric stays unwritten', async () => {
    const body = new URLSearchParams({
      Action: 'PutMetricData',
      Version: '2010-08-01',
      Namespace: 'ImageGen',
      'MetricData.member.1.MetricName': 'UtilizationRate',
      'MetricData.member.1.Value': '99',
      'MetricData.member.1.Dimensions.member.1.Name': 'EndpointName',
      'MetricData.member.1.Dimensions.member.1.Value': 'imagegen-sdxl',
    }).toString();
    const forged = await send(cloud.url, 'POST', '/', { ...form, host, origin: 'http://evil.example' }, body);
    expect(forged.status).toBe(403);
    expect(await utilizationMaximum()).toBeUndefined();

    // From an origin on the allow-list it is a CORS request like any other, and lands.
    const allowed = await send(cloud.url, 'POST', '/', { ...form, host, origin: 'http://localhost:3000' }, body);
    expect(allowed.status).toBe(200);
    expect(allowed.headers['access-control-allow-origin']).toBe('http://localhost:3000');
    expect(await utilizationMaximum()).toBe(99);
  });

  it('answers CORS preflights for allowed origins only', async () => {
    const preflight = (origin: string) => send(cloud.url, 'OPTIONS', '/', { host, origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-amz-target' });
    const refused = await preflight('http://evil.example');
    expect(refused.status).toBe(403);
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    const allowed = await preflight('http://localhost:3000');
    expect(allowed.status).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe('http://localhost:3000');
    expect(allowed.headers['access-control-allow-headers']).toBe('content-type, x-amz-target');
  });

  it('refuses console actions without the CSRF token, or from another origin, and starts no execution', async () => {
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify({ detail: { requestId: 'forgery-1', prompt: '' } }) }));
    const count = async () => (await sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions?.length ?? 0;
    const before = await count();
    const replayPath = `/_imagegen/console/executions/${encodeURIComponent(executionArn ?? '')}/replay`;
    const own = `http://${host}`;

    const page = await send(cloud.url, 'GET', `/_imagegen/console/executions/${encodeURIComponent(executionArn ?? '')}`, { host });
    expect(page.status).toBe(200);
    const cookie = String(page.headers['set-cookie']).split(';')[0] ?? '';
    expect(String(page.headers['set-cookie'])).toMatch(/SameSite=Strict/);
    const token = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    expect(token).not.toBe('');

    const noToken = await send(cloud.url, 'POST', replayPath, { ...form, host, origin: own, cookie }, 'action=replay');
    expect(noToken.status).toBe(403);
    const noCookie = await send(cloud.url, 'POST', replayPath, { ...form, host, origin: own }, `action=replay&csrf=${token}`);
    expect(noCookie.status).toBe(403);
    const wrongToken = await send(cloud.url, 'POST', replayPath, { ...form, host, origin: own, cookie: `imagegen-console-csrf=${'x'.repeat(token.length)}` }, `action=replay&csrf=${'x'.repeat(token.length)}`);
    expect(wrongToken.status).toBe(403);
    const crossSite = await send(cloud.url, 'POST', replayPath, { ...form, host, origin: 'http://evil.example', cookie }, `action=replay&csrf=${token}`);
    expect(crossSite.status).toBe(403);
    const rebound = await send(cloud.url, 'GET', '/_imagegen/console/', { host: `rebind.evil.example:${new URL(cloud.url).port}` });
    expect(rebound.status).toBe(403);
    expect(rebound.body).not.toMatch(/csrf/);
    expect(await count()).toBe(before);

    // The console's own form, with its cookie and field, replays.
    const replayed = await send(cloud.url, 'POST', replayPath, { ...form, host, origin: own, cookie }, `action=replay&csrf=${token}`);
    expect(replayed.status).toBe(303);
    expect(replayed.headers.location).toMatch(/^\/_imagegen\/console\/executions\/arn%3Aaws%3Astates/);
    expect(await count()).toBe(before + 1);
  });
});
