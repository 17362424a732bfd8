/**
 * Edge throughput of the local cloud: PutEvents/s, 1 MB S3 PutObject/s, and trivial executions/s
 * through the Step Functions API versus aws-local-stepfunctions called directly.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { LocalCloud } from '../local/cloud';
import { measureTrivialExecutions } from '../local/stepfunctions/bench';
import { inParallel, round } from './stats';

export interface EdgeResults {
  putEventsCallsPerSecond: number;
  putEventsEntriesPerSecond: number;
  s3PutObject1MbPerSecond: number;
  trivialExecutionsApiPerSecond: number;
  trivialExecutionsDirectPerSecond: number;
  apiToDirectRatio: number;
}

async function rate(seconds: number, concurrency: number, op: () => Promise<void>): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  let count = 0;
  const started = performance.now();
  await inParallel(Number.MAX_SAFE_INTEGER, concurrency, async () => {
    if (performance.now() > deadline) throw new StopSignal();
    await op();
    count++;
  }).catch((error: unknown) => {
    if (!(error instanceof StopSignal)) throw error;
  });
  return count / ((performance.now() - started) / 1000);
}

class StopSignal extends Error {}

export async function benchEdge(cloud: LocalCloud): Promise<EdgeResults> {
  const config = { endpoint: cloud.url, region: cloud.partition.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  const events = new EventBridgeClient(config);
  const s3 = new S3Client({ ...config, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
  // A detail-type no rule matches: this measures ingestion, not the pipeline behind it.
  const entries = Array.from({ length: 10 }, (_, i) => ({ EventBusName: 'imagegen', Source: 'bench', DetailType: 'Bench Ping', Detail: JSON.stringify({ i }) }));
  await events.send(new PutEventsCommand({ Entries: entries }));
  const putEventsCallsPerSecond = await rate(3, 8, async () => {
    await events.send(new PutEventsCommand({ Entries: entries }));
  });
  const megabyte = Buffer.alloc(1024 * 1024, 7);
  let n = 0;
  const s3PutObject1MbPerSecond = await rate(3, 4, async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'imagegen-images', Key: `bench/object-${n++ % 32}`, Body: megabyte }));
  });
  events.destroy();
  s3.destroy();
  const trivial = await measureTrivialExecutions(300);
  return {
    putEventsCallsPerSecond: round(putEventsCallsPerSecond),
    putEventsEntriesPerSecond: round(putEventsCallsPerSecond * 10),
    s3PutObject1MbPerSecond: round(s3PutObject1MbPerSecond),
    trivialExecutionsApiPerSecond: round(trivial.apiPathPerSecond),
    trivialExecutionsDirectPerSecond: round(trivial.directPerSecond),
    apiToDirectRatio: round(trivial.apiPathPerSecond / trivial.directPerSecond, 3),
  };
}
