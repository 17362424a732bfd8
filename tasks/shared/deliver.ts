/**
 * The success half of a settlement: write the image once, render the union of the waiting
 * executions' renditions and complete each token with that execution's result. Safe to run twice
 * (a duplicate notification, the reconciler racing Complete): the second run serves from the cache.
 */
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import type { ImageRef, SucceededDetail } from '../../events/image-generation-succeeded/schema';
import { isConditionFailure, leaseKey, type InferenceItem } from './coordination';
import { imageRef, toPng, unionRenditions } from './images';
import { MetricUnit } from './observability';
import type { SettleDeps, Settled } from './settle';
import { ensureRenditions, getBytes, headObject, originalKey, parseS3Uri, putImage } from './store';
import { sendSuccess } from './tokens';
import { deleteWaiter, queryWaiters } from './waiters';

export type Decoded = { readonly body: Buffer; readonly width: number; readonly height: number } | { readonly problem: string };

/**
 * Completes every waiter of the image from the attempt's output (or the cached original, when an
 * earlier run already wrote it); `problem` when the output is not an image, for the caller to fail.
 */
export async function deliver(
  inference: InferenceItem,
  output: { readonly outputLocation?: string | null; readonly inferenceMs?: number },
  deps: SettleDeps,
): Promise<Settled | { readonly problem: string }> {
  const { s3, config } = deps;
  const { cacheKey, inferenceId } = inference;
  const key = originalKey(cacheKey);
  let original: ImageRef;
  let png: Buffer | undefined;
  const head = await headObject(s3, config.bucket, key);
  if (head?.width && head.height) {
    // Settled before: serve the waiters from the cache.
    original = imageRef(config.bucket, key, 'png', head.width, head.height, head.bytes);
  } else {
    const decoded = await decodeOutput(inferenceId, output.outputLocation ?? inference.outputLocation, deps);
    if ('problem' in decoded) return decoded;
    png = decoded.body;
    original = await putImage(s3, config.bucket, key, 'png', decoded.body, decoded.width, decoded.height);
  }

  const waiters = await queryWaiters(cacheKey, deps);
  const known = new Map<string, ImageRef>();
  // Memoized as a promise: concurrent renditions share one download.
  let download: Promise<Buffer> | undefined;
  const loadOriginal = () => (png ? Promise.resolve(png) : (download ??= getBytes(s3, config.bucket, key)));
  // Render the union once; each waiter then picks its own list from `known`.
  await ensureRenditions(s3, config.bucket, cacheKey, original, unionRenditions(cacheKey, waiters.map((w) => w.renditions)), loadOriginal, known);

  const completedMs = deps.clock.now();
  const inferenceMs = output.inferenceMs ?? Math.max(0, completedMs - inference.startedAt);
  let completed = 0;
  for (const waiter of waiters) {
    const renditions = await ensureRenditions(s3, config.bucket, cacheKey, original, waiter.renditions, loadOriginal, known);
    const detail: SucceededDetail = {
      requestId: waiter.requestId,
      cacheKey,
      cacheHit: false,
      image: original,
      renditions,
      timings: {
        receivedAt: waiter.receivedAt,
        completedAt: new Date(completedMs).toISOString(),
        totalMs: Math.max(0, completedMs - Date.parse(waiter.receivedAt)),
        inferenceMs,
      },
      ...(waiter.metadata === undefined ? {} : { metadata: waiter.metadata as SucceededDetail['metadata'] & object }),
    };
    if (await sendSuccess(deps.sfn, waiter.taskToken, detail, deps.logger)) completed += 1;
    await deleteWaiter(waiter, deps);
  }
  // A late success of a superseded attempt leaves the newer attempt's lease alone.
  await deps.ddb
    .send(
      new DeleteCommand({
        TableName: config.tableName,
        Key: leaseKey(cacheKey),
        ConditionExpression: 'inferenceId = :id',
        ExpressionAttributeValues: { ':id': inferenceId },
      }),
    )
    .catch((e: unknown) => {
      if (!isConditionFailure(e)) throw e;
    });
  deps.metrics.addMetric('ImagesCompleted', MetricUnit.Count, 1);
  deps.metrics.addMetric('InferenceTime', MetricUnit.Milliseconds, inferenceMs);
  deps.logger.info('inference completed', { inferenceId, cacheKey, waiters: waiters.length, completed });
  return { outcome: 'succeeded', completed };
}

/** Reads the model's `{"generated_images":[base64]}` output and proves it is an image. */
async function decodeOutput(inferenceId: string, location: string | null | undefined, deps: SettleDeps): Promise<Decoded> {
  if (!location) return { problem: `the endpoint reported success for inference ${inferenceId} but gave no output location` };
  const { bucket, key } = parseS3Uri(location);
  const raw = await getBytes(deps.s3, bucket, key);
  let images: unknown;
  try {
    images = (JSON.parse(raw.toString('utf8')) as { generated_images?: unknown }).generated_images;
  } catch {
    return { problem: `model output ${location} is not JSON (expected {"generated_images":[<base64 image>]})` };
  }
  const first = Array.isArray(images) ? images[0] : undefined;
  if (typeof first !== 'string' || first.length === 0) {
    return { problem: `model output ${location} has no generated_images[0] (expected {"generated_images":[<base64 image>]})` };
  }
  try {
    return await toPng(Buffer.from(first, 'base64'));
  } catch (error) {
    return { problem: `model output ${location}: generated_images[0] is not a readable image (${(error as Error).message})` };
  }
}
