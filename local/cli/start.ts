/**
 * `imagegen start` (what `npm start` runs): boot the local cloud, send a campaign batch through
 * PutEvents like a producer would, follow every execution to its end, then write the images, a
 * `summary.json` and an `index.html` gallery under `out/`. Exits non-zero if any request ended
 * other than as the batch expects.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { LocalCloud } from '../cloud';
import { inParallel } from '../concurrency';
import { loadCampaign, meetsExpectation, syntheticCampaign, type CampaignBatch, type CampaignRequest } from './campaign';
import { followExecutions, type FinishedExecution } from './follow';
import { renderGallery } from './gallery';
import type { RequestOutcome } from './outcome';
import { cloudOptionHelp, cloudOptions, cloudOptionSpec, number, withFaultsFile } from './options';
import { Progress } from './progress';
import { untilInterrupted } from './serve';

export type { RequestOutcome };

const HELP = `usage: imagegen start [options]

Runs a campaign offline: boots the local cloud, sends the batch as "Image Generation Requested"
events to the imagegen bus, and waits for every request to finish.

  --events FILE        campaign batch (default events/samples/campaign.json)
  --count N            send N synthetic requests instead of a file
  --concurrency N      PutEvents calls in flight at once (default 4)
  --out DIR            where images, summary.json and index.html go (default out)
  --timeout-seconds N  give up waiting after N seconds (default 600)
  --keep-serving       after the run, keep the local cloud up (Ctrl-C stops it) so its operator
                       console can be used: executions, replays, the endpoint

${cloudOptionHelp}`;

export async function runStart(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      ...cloudOptionSpec,
      events: { type: 'string' },
      count: { type: 'string' },
      concurrency: { type: 'string' },
      out: { type: 'string' },
      'timeout-seconds': { type: 'string' },
      'keep-serving': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const campaign =
    values.count === undefined
      ? await loadCampaign(values.events ?? 'events/samples/campaign.json')
      : syntheticCampaign(number('--count', values.count, 1, 100_000));
  const concurrency = values.concurrency === undefined ? 4 : number('--concurrency', values.concurrency, 1, 64);
  const timeoutMs = 1000 * (values['timeout-seconds'] === undefined ? 600 : number('--timeout-seconds', values['timeout-seconds'], 1, 86_400));
  const outDir = resolve(values.out ?? 'out');
  const say = (line: string) => process.stdout.write(`${line}\n`);

  const bootStarted = Date.now();
  const options = cloudOptions(values, 0);
  const cloud = await withFaultsFile(values.faults, () =>
    LocalCloud.start({
      // A one-shot run must not collide with a `serve` already on 4566: any free port unless asked.
      ...options,
      standIn: { inferenceMs: 1500, ...options.standIn },
      instanceStartupSeconds: options.instanceStartupSeconds ?? 2,
      log: () => undefined,
    }),
  );
  say(`local cloud up on ${cloud.url} in ${Date.now() - bootStarted} ms (data in ${cloud.dataDir}); console ${cloud.consoleUrl}`);

  try {
    const clientConfig = { endpoint: cloud.url, region: cloud.partition.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
    const events = new EventBridgeClient(clientConfig);
    const sfn = new SFNClient(clientConfig);
    const s3 = new S3Client({ ...clientConfig, forcePathStyle: true });
    const stateMachineArn = `arn:aws:states:${cloud.partition.region}:${cloud.partition.account}:stateMachine:${cloud.topology.stateMachines[0]?.name ?? 'imagegen-request'}`;

    say(`sending ${campaign.requests.length} requests to bus "${cloud.topology.buses[0]?.name}"…`);
    const sentAt = new Date(Date.now() - 1000);
    const eventIds = await sendBatch(events, campaign, cloud.topology.buses[0]?.name ?? 'imagegen', concurrency);

    const progress = new Progress(campaign.requests.length, process.stderr);
    const finished = await followExecutions(sfn, stateMachineArn, sentAt, eventIds, timeoutMs, progress);
    progress.done();

    await rm(outDir, { recursive: true, force: true });
    await mkdir(join(outDir, 'images'), { recursive: true });
    const outcomes: RequestOutcome[] = [];
    for (const [index, request] of campaign.requests.entries()) {
      const eventId = eventIds[index];
      const execution = eventId === undefined ? undefined : finished.get(eventId);
      outcomes.push(await outcomeOf(index, request, execution, s3, outDir));
    }

    await writeFile(join(outDir, 'summary.json'), `${JSON.stringify({ generatedAt: new Date().toISOString(), outcomes }, null, 2)}\n`);
    await writeFile(join(outDir, 'index.html'), renderGallery(outcomes));
    say(summaryTable(outcomes));
    const unexpected = outcomes.filter((o) => !o.asExpected);
    const hits = outcomes.filter((o) => o.cacheHit).length;
    say(
      `\n${outcomes.length} requests: ${outcomes.filter((o) => o.status === 'SUCCEEDED').length} succeeded (${hits} from cache), ` +
        `${outcomes.filter((o) => o.status === 'FAILED').length} failed; ${unexpected.length} not as expected.`,
    );
    say(`images and gallery: ${join(outDir, 'index.html')}`);
    for (const o of unexpected) say(`  unexpected: ${o.requestId} ended ${o.status}${o.errorCode ? ` (${o.errorCode})` : ''}, expected ${o.expected}${o.errorMessage ? `: ${o.errorMessage}` : ''}`);
    if (values['keep-serving']) {
      say(`\nlocal cloud still serving on ${cloud.url}; console ${cloud.consoleUrl} (Ctrl-C to stop)`);
      await untilInterrupted();
    }
    return unexpected.length === 0 ? 0 : 1;
  } finally {
    await cloud.close();
  }
}

async function sendBatch(
  client: EventBridgeClient,
  campaign: CampaignBatch,
  busName: string,
  concurrency: number,
): Promise<(string | undefined)[]> {
  const { requests, source } = campaign;
  const ids: (string | undefined)[] = new Array(requests.length);
  const chunks: number[][] = [];
  for (let i = 0; i < requests.length; i += 10) chunks.push(requests.slice(i, i + 10).map((_, j) => i + j));
  await inParallel(chunks.length, concurrency, async (c) => {
    const chunk = chunks[c] ?? [];
    const entries: PutEventsRequestEntry[] = chunk.map((i) => ({
      EventBusName: busName,
      Source: source,
      DetailType: 'Image Generation Requested',
      Detail: JSON.stringify(requests[i]?.detail),
    }));
    const result = await client.send(new PutEventsCommand({ Entries: entries }));
    result.Entries?.forEach((entry, j) => {
      const index = chunk[j];
      if (index === undefined) return;
      if (entry.ErrorCode) throw new Error(`PutEvents rejected request #${index + 1}: ${entry.ErrorCode} ${entry.ErrorMessage ?? ''}`);
      ids[index] = entry.EventId;
    });
  });
  return ids;
}

interface ImageRef {
  readonly bucket: string;
  readonly key: string;
  readonly format: string;
  readonly width: number;
}

async function outcomeOf(
  position: number,
  request: CampaignRequest,
  execution: FinishedExecution | undefined,
  s3: S3Client,
  outDir: string,
): Promise<RequestOutcome> {
  const requestId = typeof request.detail.requestId === 'string' ? request.detail.requestId : '(no requestId)';
  const expected = request.expect.outcome === 'succeeded' ? 'succeeded' : `failed (${request.expect.code})`;
  const prompt = typeof request.detail.prompt === 'string' ? { prompt: request.detail.prompt.trim() } : {};
  if (!execution) return { requestId, ...prompt, status: 'NOT_STARTED', expected, asExpected: false, files: [] };
  const status = execution.status as RequestOutcome['status'];
  const base = { requestId, ...prompt, status, expected, asExpected: meetsExpectation(request.expect, status, execution.error), executionArn: execution.arn };
  if (status !== 'SUCCEEDED') {
    return {
      ...base,
      latencyMs: execution.stopMs - execution.startMs,
      ...(execution.error === undefined ? {} : { errorCode: execution.error }),
      ...(execution.cause === undefined ? {} : { errorMessage: execution.cause }),
      files: [],
    };
  }
  const output = JSON.parse(execution.output ?? '{}') as {
    cacheHit?: boolean;
    timings?: { totalMs?: number };
    image?: ImageRef;
    renditions?: ImageRef[];
  };
  // Request ids come from producers: only a sanitized form reaches a path, prefixed with the
  // request's position so neither a repeat nor two ids that sanitize alike overwrite each other.
  const folder = `${String(position + 1).padStart(3, '0')}-${requestId.replace(/[^A-Za-z0-9._-]/g, '_')}`;
  const files: string[] = [];
  for (const [name, image] of [
    ['original', output.image],
    ...(output.renditions ?? []).map((r, i) => [`rendition-${i + 1}-${r.width}w`, r] as const),
  ] as const) {
    if (!image) continue;
    const object = await s3.send(new GetObjectCommand({ Bucket: image.bucket, Key: image.key }));
    const body = await object.Body?.transformToByteArray();
    if (!body) continue;
    const file = join('images', folder, `${name}.${image.format}`);
    await mkdir(join(outDir, 'images', folder), { recursive: true });
    await writeFile(join(outDir, file), body);
    files.push(file);
  }
  return {
    ...base,
    ...(output.cacheHit === undefined ? {} : { cacheHit: output.cacheHit }),
    ...(output.timings?.totalMs === undefined ? {} : { latencyMs: output.timings.totalMs }),
    files,
  };
}

export function summaryTable(outcomes: readonly RequestOutcome[]): string {
  const rows = outcomes.map((o) => [
    o.requestId,
    o.status === 'SUCCEEDED' ? 'succeeded' : `${o.status.toLowerCase()}${o.errorCode ? ` (${o.errorCode})` : ''}`,
    o.cacheHit === undefined ? '-' : o.cacheHit ? 'hit' : 'miss',
    o.latencyMs === undefined ? '-' : `${(o.latencyMs / 1000).toFixed(2)} s`,
    o.asExpected ? '' : `expected ${o.expected}`,
  ]);
  const header = ['request', 'status', 'cache', 'latency', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return ['', line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
