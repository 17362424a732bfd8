/**
 * A request that waits in the endpoint's queue longer than its RequestTTLSeconds is never run: the
 * endpoint writes the failure object and publishes the error notification, Complete fails the waiting
 * execution without a retry (a retry would queue behind newer work for another TTL), and the producer
 * receives `Image Generation Failed` with `InferenceTimedOut` and SageMaker's reason (docs/design.md,
 * recovery; docs/aws-behaviours.md, rows 9 and 37). If that notification never reaches Complete, the
 * scheduled reconciler finds the failure object and settles the request the same way, minutes later
 * rather than at the workflow's deadline. Through the real workflow on the local cloud, on its clock:
 * one instance (maxInstances 1) whose twelve copies are busy, and the shortest TTL SageMaker accepts.
 */
import { ListSubscriptionsByTopicCommand, SNSClient, UnsubscribeCommand } from '@aws-sdk/client-sns';
import { defaultConfig, names } from '../../../topology/imagegen-topology';
import { Pipeline, imageReply, until } from './harness';

jest.setTimeout(240_000);

const ENDPOINT = defaultConfig.endpointName;
const config = { requestTtlSeconds: 60, minInstances: 1, maxInstances: 1 };
const COPIES = defaultConfig.maxConcurrentInvocationsPerInstance;
const EXPIRED = 'ClientError: Request expired after waiting 60 seconds in the queue (RequestTTLSeconds) before an instance could process it.';

function newGate(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('a request whose queue TTL passes', () => {
  let pipeline: Pipeline;
  // Prompts starting "busy" hold a copy of the model until the test releases them.
  let gate = newGate();

  beforeAll(async () => {
    const image = await imageReply();
    pipeline = await Pipeline.start({ config, model: (call) => (call.inputs.startsWith('busy') ? gate.promise.then(() => image) : image) });
  });

  afterAll(async () => {
    gate.resolve();
    await pipeline?.close();
  });

  /** Occupies every copy of the one instance, then queues `prompt` behind them. */
  async function queueBehindBusyCopies(tag: string, requestId: string, prompt: string): Promise<{ busy: string[]; queued: string }> {
    const calls = pipeline.modelCalls.length;
    const busy = await pipeline.send(Array.from({ length: COPIES }, (_, i) => ({ requestId: `${tag}-busy-${i}`, prompt: `busy ${tag} ${i}` })));
    await until(() => pipeline.modelCalls.length === calls + COPIES, 'every copy busy');
    const [queued = ''] = await pipeline.send([{ requestId, prompt, metadata: { campaign: tag } }]);
    await until(() => pipeline.cloud.services.sagemaker.stats(ENDPOINT).queued === 1, 'the request in the endpoint queue');
    return { busy, queued };
  }

  it('ends InferenceTimedOut with the expiry reason and no retry, never reaches the model, and leaves the image free to generate', async () => {
    const since = pipeline.clock.now();
    const { busy, queued } = await queueBehindBusyCopies('ttl', 'late-1', 'a quiet harbour at night');

    // 59 s: still queued. 60 s: expired, and the producer is told at once (not at the workflow's deadline).
    await pipeline.advance(59_000);
    expect(pipeline.cloud.services.sagemaker.stats(ENDPOINT).queued).toBe(1);
    await pipeline.advance(1_000);
    const run = (await pipeline.finish([queued], since, 30_000)).get(queued);
    expect({ status: run?.status, error: run?.error }).toEqual({ status: 'FAILED', error: 'InferenceTimedOut' });
    expect(run?.cause?.startsWith(EXPIRED)).toBe(true);
    const [event] = await pipeline.resultsFor(['late-1']);
    expect(event?.['detail-type']).toBe('Image Generation Failed');
    expect(event?.detail).toEqual({ requestId: 'late-1', error: { code: 'InferenceTimedOut', message: run?.cause }, metadata: { campaign: 'ttl' } });
    expect(pipeline.modelCalls.map((c) => c.inputs)).not.toContain('a quiet harbour at night');

    // The busy requests finish normally; the expired image is not stuck behind a dead lease: asked again, it is generated.
    gate.resolve();
    const busyRuns = await pipeline.finish(busy, since);
    expect([...busyRuns.values()].map((r) => r.status)).toEqual(Array.from({ length: COPIES }, () => 'SUCCEEDED'));
    const [retry = ''] = await pipeline.send([{ requestId: 'late-1-again', prompt: 'a quiet harbour at night' }]);
    const retried = (await pipeline.finish([retry], since)).get(retry);
    expect(retried?.status).toBe('SUCCEEDED');
    expect(JSON.parse(retried?.output ?? '{}')).toMatchObject({ requestId: 'late-1-again', cacheHit: false });
  });

  it('is settled by the reconciler from the failure object when the expiry notification never reaches Complete', async () => {
    // Complete no longer hears the error topic (an unsubscribed or broken subscription).
    const sns = new SNSClient(pipeline.clientConfig);
    const topicArn = `arn:aws:sns:us-east-1:000000000000:${names.errorTopic}`;
    const subscriptions = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }));
    for (const s of subscriptions.Subscriptions ?? []) await sns.send(new UnsubscribeCommand({ SubscriptionArn: s.SubscriptionArn }));

    gate = newGate();
    const since = pipeline.clock.now();
    const { busy, queued } = await queueBehindBusyCopies('lost', 'late-2', 'a lantern in fog');
    await pipeline.advance(60_000);
    expect(pipeline.cloud.services.sagemaker.stats(ENDPOINT).queued).toBe(0);
    gate.resolve();
    await pipeline.finish(busy, since);

    // No notification reaches Complete: only the reconciler (every minute) can find the failure object.
    await pipeline.advance(180_000, 5_000);
    const run = (await pipeline.finish([queued], since, 30_000)).get(queued);
    expect({ status: run?.status, error: run?.error }).toEqual({ status: 'FAILED', error: 'InferenceTimedOut' });
    expect(run?.cause?.startsWith(EXPIRED)).toBe(true);
    const [event] = await pipeline.resultsFor(['late-2']);
    expect(event?.detail).toEqual({ requestId: 'late-2', error: { code: 'InferenceTimedOut', message: run?.cause }, metadata: { campaign: 'lost' } });
    expect(pipeline.modelCalls.map((c) => c.inputs)).not.toContain('a lantern in fog');
  });
});
