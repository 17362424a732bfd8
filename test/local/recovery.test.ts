/**
 * Recovery through the whole local cloud on a manual clock that the functions follow: the real
 * workflow, Resolve, Complete and the every-minute reconciler, the emulated endpoint, SNS and S3.
 * The model is a container that answers from a script (an image, a 5xx, a 4xx), so a transient
 * failure, a permanent one and spent retries are exact. Lost notifications are made by removing
 * Complete's subscriptions through the SNS API; a request the endpoint loses, by also removing its
 * output object as it lands.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DeleteObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient, type DescribeExecutionCommandOutput } from '@aws-sdk/client-sfn';
import { ListSubscriptionsByTopicCommand, SNSClient, UnsubscribeCommand } from '@aws-sdk/client-sns';
import sharp from 'sharp';
import { ManualClock } from '../../local/clock';
import { LocalCloud } from '../../local/cloud';
import { defaultConfig, imagegenTopology, names } from '../../topology/imagegen-topology';

jest.setTimeout(240_000);

const MINUTE = 60_000;
const ENDPOINT = 'imagegen-sdxl';
// Short endpoint limits so a lost request passes its deadline (60 + 10 + 120 s) in a few scheduled minutes.
const CONFIG = { ...defaultConfig, requestTtlSeconds: 60, invocationTimeoutSeconds: 10 };
const STATE_MACHINE = `arn:aws:states:us-east-1:000000000000:stateMachine:${defaultConfig.stateMachineName}`;

type Answer = 'image' | 'server-error' | 'client-error';

/** A model container answering each `/invocations` with the next scripted answer (then images). */
async function scriptedModel(): Promise<{ url: string; script: Answer[]; calls: () => number; hold: () => () => void; close: () => Promise<void> }> {
  const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 20, g: 90, b: 160 } } }).png().toBuffer();
  const image = JSON.stringify({ generated_images: [png.toString('base64')] });
  const script: Answer[] = [];
  let calls = 0;
  // While held, answers wait: requests for one image all register before its first attempt ends.
  let held: (() => void)[] | undefined;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/ping') return void res.end('{}');
      calls++;
      const answer = script.shift() ?? 'image';
      const [status, body] = answer === 'image' ? [200, image] : answer === 'server-error' ? [500, '{"error":"NEURON_RT_EXEC_ERROR"}'] : [400, 'parameters.width must be a multiple of 64'];
      const send = () => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(body);
      };
      if (held) held.push(send);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    script,
    calls: () => calls,
    hold: () => {
      const waiting: (() => void)[] = [];
      held = waiting;
      return () => {
        held = undefined;
        for (const send of waiting) send();
      };
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, ms = 60_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('recovery in the local cloud', () => {
  let cloud: LocalCloud;
  let clock: ManualClock;
  let model: Awaited<ReturnType<typeof scriptedModel>>;
  let dataDir: string;
  let events: EventBridgeClient;
  let sfn: SFNClient;
  let s3: S3Client;
  let sns: SNSClient;
  let n = 0;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'imagegen-recovery-'));
    clock = new ManualClock(Date.parse('2025-06-02T00:00:00Z'));
    model = await scriptedModel();
    cloud = await LocalCloud.start({ port: 0, dataDir, clock, modelUrl: model.url, instanceStartupSeconds: 0, topology: imagegenTopology(CONFIG), log: (l) => { if (process.env.RECOVERY_LOG) process.stderr.write(l + '\n'); } });
    const config = { endpoint: cloud.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
    events = new EventBridgeClient(config);
    sfn = new SFNClient(config);
    s3 = new S3Client({ ...config, forcePathStyle: true });
    sns = new SNSClient(config);
    // The first invocation of each function waits for the bundle.
    await cloud.services.lambda.invoke('imagegen-resolve', {});
  });

  afterAll(async () => {
    await cloud?.close();
    await model?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Lets the functions, the endpoint and the model run until nothing moves (a retry starts another inference). */
  async function settle(): Promise<void> {
    let seen = -1;
    while (seen !== model.calls()) {
      seen = model.calls();
      await cloud.services.events.whenIdle();
      await cloud.services.lambda.idle();
      await waitFor(() => {
        const stats = cloud.services.sagemaker.stats(ENDPOINT);
        return (stats.inFlight === 0 && stats.queued === 0) || undefined;
      }, 'the endpoint to answer');
      await cloud.services.lambda.idle();
    }
  }

  async function minute(): Promise<void> {
    await clock.advance(MINUTE);
    await settle();
  }

  /** Sends requests for one picture (a fresh prompt per call) and returns their requestIds. */
  async function request(count = 1, options: { held?: boolean } = {}): Promise<string[]> {
    const release = options.held ? model.hold() : undefined;
    const calls = model.calls();
    const prompt = `a lighthouse in a storm, take ${++n}`;
    const ids = Array.from({ length: count }, (_, i) => `recovery-${n}-${i}`);
    const put = await events.send(
      new PutEventsCommand({ Entries: ids.map((requestId) => ({ EventBusName: 'imagegen', Source: 'test.recovery', DetailType: 'Image Generation Requested', Detail: JSON.stringify({ requestId, prompt, seed: 7 }) })) }),
    );
    expect(put.FailedEntryCount).toBe(0);
    await waitFor(async () => (await executions(ids)).length === count || undefined, 'the executions to start');
    if (release) {
      await cloud.services.lambda.idle();
      await waitFor(() => model.calls() > calls || undefined, 'the first attempt at the model');
      release();
    }
    await settle();
    return ids;
  }

  async function executions(requestIds: readonly string[]): Promise<DescribeExecutionCommandOutput[]> {
    const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn: STATE_MACHINE, maxResults: 1000 }));
    const described = await Promise.all((listed.executions ?? []).map((e) => sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn! }))));
    return described.filter((d) => requestIds.includes((JSON.parse(d.input ?? '{}') as { detail?: { requestId?: string } }).detail?.requestId ?? ''));
  }

  /** Runs scheduled minutes until every execution ended; returns them and the minutes it took. */
  async function untilEnded(requestIds: readonly string[], maxMinutes: number): Promise<{ ended: DescribeExecutionCommandOutput[]; minutes: number }> {
    for (let minutes = 0; ; minutes++) {
      const ended = await executions(requestIds);
      if (ended.every((e) => e.status !== 'RUNNING')) return { ended, minutes };
      if (minutes === maxMinutes) throw new Error(`still running after ${maxMinutes} scheduled minutes: ${ended.filter((e) => e.status === 'RUNNING').length} of ${ended.length}`);
      await minute();
    }
  }

  const outcome = (e: DescribeExecutionCommandOutput) => (e.status === 'FAILED' ? `FAILED ${e.error}` : e.status);

  it('retries a transient model error (5xx) under the same wait: SUCCEEDED, two inferences for one image', async () => {
    model.script.push('server-error');
    const before = model.calls();
    const ids = await request(2, { held: true });
    const { ended } = await untilEnded(ids, 2);
    expect(ended.map(outcome)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(model.calls() - before).toBe(2);
  });

  it('fails at once on a permanent model error (4xx: bad input), without a retry', async () => {
    model.script.push('client-error');
    const before = model.calls();
    const ids = await request();
    const { ended, minutes } = await untilEnded(ids, 1);
    expect(minutes).toBe(0);
    expect(ended.map(outcome)).toEqual(['FAILED InferenceFailed']);
    expect(ended[0]!.cause).toContain('Received client error (400) from model');
    expect(model.calls() - before).toBe(1);
  });

  it('fails every waiter once with InferenceFailed when the retries are spent: three inferences', async () => {
    model.script.push('server-error', 'server-error', 'server-error');
    const before = model.calls();
    const ids = await request(2, { held: true });
    const { ended } = await untilEnded(ids, 1);
    expect(ended.map(outcome)).toEqual(['FAILED InferenceFailed', 'FAILED InferenceFailed']);
    expect(ended[0]!.cause).toContain('(gave up after 3 attempts)');
    expect(model.calls() - before).toBe(1 + defaultConfig.inferenceRetries);
  });

  describe('with the notifications lost', () => {
    beforeAll(async () => {
      for (const topic of [names.successTopic, names.errorTopic]) {
        const topicArn = `arn:aws:sns:us-east-1:000000000000:${topic}`;
        const subscriptions = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }));
        for (const s of subscriptions.Subscriptions ?? []) await sns.send(new UnsubscribeCommand({ SubscriptionArn: s.SubscriptionArn! }));
        expect((await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }))).Subscriptions ?? []).toEqual([]);
      }
    });

    async function outputKeys(): Promise<string[]> {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: defaultConfig.bucketName, Prefix: 'async-output/' }));
      return (listed.Contents ?? []).map((o) => o.Key!);
    }

    it('completes a request whose success notification never came within 2 minutes of its output landing', async () => {
      const outputs = (await outputKeys()).length;
      const ids = await request(2);
      // The output has landed (the endpoint answered), at this clock time.
      expect(await outputKeys()).toHaveLength(outputs + 1);
      const landed = clock.now();
      const { ended, minutes } = await untilEnded(ids, 5);
      expect(ended.map(outcome)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
      // Settled by a scheduled run, not by Complete.
      expect(minutes).toBeGreaterThanOrEqual(1);
      expect(clock.now() - landed).toBeLessThanOrEqual(2 * MINUTE);
    });

    it('retries a transient failure whose error notification never came, from the failure object', async () => {
      model.script.push('server-error');
      const before = model.calls();
      const ids = await request();
      const { ended } = await untilEnded(ids, 5);
      expect(ended.map(outcome)).toEqual(['SUCCEEDED']);
      expect(model.calls() - before).toBe(2);
    });

    it('starts a new attempt for a request the endpoint lost (no output, no notification) once past its deadline', async () => {
      const before = new Set(await outputKeys());
      const calls = model.calls();
      const ids = await request();
      // The endpoint loses the answer: its output object is gone with its notification.
      for (const key of (await outputKeys()).filter((k) => !before.has(k))) await s3.send(new DeleteObjectCommand({ Bucket: defaultConfig.bucketName, Key: key }));
      const { ended, minutes } = await untilEnded(ids, 8);
      expect(ended.map(outcome)).toEqual(['SUCCEEDED']);
      expect(model.calls() - calls).toBe(2);
      // Not before the deadline (60 s queue TTL + 10 s invocation timeout + 120 s), then one minute for the retry's output.
      expect(minutes).toBeGreaterThanOrEqual(4);
    });
  });
});
