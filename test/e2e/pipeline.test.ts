/**
 * The product end to end: `imagegen serve` as a separate process, driven only through real AWS SDK
 * v3 clients, as a producer and an operator would.
 */
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import sharp from 'sharp';
import { followExecutions, type FinishedExecution } from '../../local/cli/follow';
import { startServe, type ServeProcess } from './serve-process';

jest.setTimeout(180_000);

const STATE_MACHINE = 'arn:aws:states:us-east-1:000000000000:stateMachine:imagegen-request';
const BUCKET = 'imagegen-images';

interface ResultImage {
  bucket: string;
  key: string;
  uri: string;
  width: number;
  height: number;
  format: string;
  contentType: string;
  bytes: number;
}

interface SucceededDetail {
  requestId: string;
  cacheKey: string;
  cacheHit: boolean;
  image: ResultImage;
  renditions: ResultImage[];
  timings: { receivedAt: string; completedAt: string; totalMs: number; inferenceMs?: number };
  metadata?: unknown;
}

describe('imagegen pipeline through `npm run serve`', () => {
  let serve: ServeProcess;
  let events: EventBridgeClient;
  let sfn: SFNClient;
  let s3: S3Client;

  beforeAll(async () => {
    serve = await startServe(['--inference-ms', '300', '--startup-seconds', '0']);
    events = new EventBridgeClient(serve.clientConfig);
    sfn = new SFNClient(serve.clientConfig);
    s3 = new S3Client({ ...serve.clientConfig, forcePathStyle: true });
  });

  afterAll(async () => {
    events?.destroy();
    sfn?.destroy();
    s3?.destroy();
    await serve?.stop();
  });

  async function send(details: readonly Record<string, unknown>[]): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < details.length; i += 10) {
      const entries: PutEventsRequestEntry[] = details.slice(i, i + 10).map((detail) => ({
        EventBusName: 'imagegen',
        Source: 'e2e.producer',
        DetailType: 'Image Generation Requested',
        Detail: JSON.stringify(detail),
      }));
      const result = await events.send(new PutEventsCommand({ Entries: entries }));
      expect(result.FailedEntryCount).toBe(0);
      ids.push(...(result.Entries ?? []).map((e) => e.EventId ?? ''));
    }
    return ids;
  }

  async function run(details: readonly Record<string, unknown>[]): Promise<FinishedExecution[]> {
    const since = new Date(Date.now() - 2000);
    const ids = await send(details);
    const finished = await followExecutions(sfn, STATE_MACHINE, since, ids, 150_000);
    return ids.map((id) => {
      const execution = finished.get(id);
      if (!execution) throw new Error(`no execution for event ${id}`);
      return execution;
    });
  }

  async function objectBytes(image: ResultImage): Promise<Buffer> {
    const object = await s3.send(new GetObjectCommand({ Bucket: image.bucket, Key: image.key }));
    return Buffer.from((await object.Body?.transformToByteArray()) ?? []);
  }

  it('turns one request into an image and its renditions, with dimensions and formats as asked', async () => {
    const [execution] = await run([
      {
        requestId: 'e2e-single',
        prompt: 'a lighthouse at dawn, watercolour',
        seed: 7,
        renditions: [
          { width: 512, format: 'webp' },
          { width: 200, format: 'jpeg', quality: 70 },
          { width: 64, format: 'png' },
        ],
        metadata: { campaign: 'e2e' },
      },
    ]);

    expect(execution?.status).toBe('SUCCEEDED');
    const detail = JSON.parse(execution?.output ?? '{}') as SucceededDetail;
    expect(detail).toMatchObject({ requestId: 'e2e-single', cacheHit: false, metadata: { campaign: 'e2e' } });
    expect(detail.cacheKey).toMatch(/^[0-9a-f]{64}$/);
    expect(detail.timings.inferenceMs).toBeGreaterThan(0);

    const original = await sharp(await objectBytes(detail.image)).metadata();
    expect([original.format, original.width, original.height]).toEqual(['png', 1024, 1024]);
    expect(detail.image).toMatchObject({ bucket: BUCKET, width: 1024, height: 1024, format: 'png', contentType: 'image/png' });
    expect(detail.image.uri).toBe(`s3://${detail.image.bucket}/${detail.image.key}`);

    const expected = [
      ['webp', 512],
      ['jpeg', 200],
      ['png', 64],
    ];
    expect(detail.renditions).toHaveLength(3);
    for (const [index, rendition] of detail.renditions.entries()) {
      const bytes = await objectBytes(rendition);
      const meta = await sharp(bytes).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual([expected[index]?.[0], expected[index]?.[1], expected[index]?.[1]]);
      expect(rendition.bytes).toBe(bytes.length);
    }
  });

  it('serves a repeat of a finished request from cache, with the same image', async () => {
    const request = { requestId: 'e2e-repeat-a', prompt: 'a bowl of ramen, studio photo', seed: 11 };
    const [first] = await run([request]);
    const [second] = await run([{ ...request, requestId: 'e2e-repeat-b' }]);

    const a = JSON.parse(first?.output ?? '{}') as SucceededDetail;
    const b = JSON.parse(second?.output ?? '{}') as SucceededDetail;
    expect(a.cacheHit).toBe(false);
    expect(b.cacheHit).toBe(true);
    expect(b.cacheKey).toBe(a.cacheKey);
    expect(b.image.key).toBe(a.image.key);
    expect(b.timings.inferenceMs).toBeUndefined();
  });

  it('rejects an invalid request as InvalidRequest naming the field and bound', async () => {
    const [execution] = await run([{ requestId: 'e2e-invalid', prompt: 'ok', steps: 250 }]);
    expect(execution?.status).toBe('FAILED');
    expect(execution?.error).toBe('InvalidRequest');
    expect(execution?.cause).toMatch(/steps/);
    expect(execution?.cause).toMatch(/100/);
  });

  it('runs exactly one inference for 20 identical requests among 50 concurrent ones', async () => {
    const before = await countObjects('async-output/');
    const identical = Array.from({ length: 20 }, (_, i) => ({
      requestId: `e2e-same-${i}`,
      prompt: 'a koi pond, paper cut-out',
      seed: 5,
    }));
    const distinct = Array.from({ length: 30 }, (_, i) => ({
      requestId: `e2e-distinct-${i}`,
      prompt: `a mountain cabin number ${i}`,
      seed: 1000 + i,
    }));

    const executions = await run([...identical, ...distinct]);

    expect(executions.map((e) => e.status)).toEqual(Array(50).fill('SUCCEEDED'));
    const details = executions.map((e) => JSON.parse(e.output ?? '{}') as SucceededDetail);
    const identicalKeys = new Set(details.slice(0, 20).map((d) => d.cacheKey));
    expect(identicalKeys.size).toBe(1);
    expect(new Set(details.map((d) => d.requestId)).size).toBe(50);
    // One model output object per inference: 1 for the identical group + 30 distinct.
    expect((await countObjects('async-output/')) - before).toBe(31);
  });

  async function countObjects(prefix: string): Promise<number> {
    let count = 0;
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
      count += page.KeyCount ?? 0;
      token = page.NextContinuationToken;
    } while (token);
    return count;
  }
});
