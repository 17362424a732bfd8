/**
 * The Lambda entry points as the runtime calls them: each reads its environment at cold start, builds
 * its SDK clients from the endpoint variables, runs its core and flushes its metrics as CloudWatch
 * embedded-metric documents on stdout. S3 and DynamoDB are the local cloud's own (TestCloud), reached
 * through AWS_ENDPOINT_URL_*; Step Functions, SageMaker and EventBridge answer as the recorded clients do.
 */
// First: the environment the handlers read as they load (cold start).
import { BUS, ENDPOINT, savedEnv } from './entry-points-env';
import type { SucceededDetail } from '../../../events/image-generation-succeeded/schema';
import { handler as completeEntry } from '../../../tasks/complete/handler';
import { handler as reconcileEntry } from '../../../tasks/reconcile/handler';
import { handler as reportFailureEntry } from '../../../tasks/report-failure/handler';
import { handler as resolveEntry } from '../../../tasks/resolve/handler';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { SFNClient } from '@aws-sdk/client-sfn';
import { loadSample } from '../../../events/samples';
import { defaultConfig } from '../../../topology/imagegen-topology';
import { TestCloud } from '../../workflows/test-cloud';
import { errorNotification, finishLastInference, snsEvent, successNotification } from '../../workflows/harness';

type Handler<I, O> = (input: I) => Promise<O>;

/** One CloudWatch embedded-metric document, as Powertools writes it. */
interface Emf {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [field: string]: unknown;
}

const SERVER_ERROR = 'ClientError: Received server error (500) from model. See the SageMaker Endpoint logs in your account for more information.';

describe('the Lambda entry points', () => {
  let cloud: TestCloud;
  let saved: Record<string, string | undefined>;
  let emitted: string[];
  let warned: unknown[][];
  const resolveHandler = resolveEntry as unknown as Handler<object, { outcome: string; inferenceId?: string }>;
  const completeHandler = completeEntry as unknown as Handler<object, unknown[]>;
  const reconcileHandler = reconcileEntry as unknown as Handler<object, { looked: number; outcomes: Record<string, number> }>;
  const reportFailureHandler = reportFailureEntry as unknown as Handler<object, unknown>;

  const metricsOf = (doc: Emf) => Object.fromEntries(doc._aws.CloudWatchMetrics[0]!.Metrics.map((m) => [m.Name, [doc[m.Name], m.Unit]]));

  const request = (requestId: string, n: number) => ({
    event: { ...loadSample('image-generation-requested', 'minimal'), detail: { requestId, prompt: `a lighthouse ${n}`, renditions: [{ width: 256, format: 'png' }] } },
    taskToken: `entry-token-${n}`,
    executionArn: `arn:aws:states:us-east-1:000000000000:execution:imagegen-request:entry-${n}`,
  });

  beforeAll(async () => {
    cloud = await TestCloud.start();
    const s3 = await cloud.s3.config.endpoint!();
    const ddb = await cloud.ddb.config.endpoint!();
    const vars = { AWS_ENDPOINT_URL_S3: `${s3.protocol}//${s3.hostname}:${s3.port}`, AWS_ENDPOINT_URL_DYNAMODB: `${ddb.protocol}//${ddb.hostname}:${ddb.port}` };
    saved = { ...savedEnv, ...Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]])) };
    Object.assign(process.env, vars);
    // The functions' own clients send to the recorded ones, which answer as the services do.
    jest.spyOn(SFNClient.prototype, 'send').mockImplementation(((command: never) => cloud.sfn.send(command)) as never);
    jest.spyOn(SageMakerRuntimeClient.prototype, 'send').mockImplementation(((command: never) => cloud.sagemaker.send(command)) as never);
    jest.spyOn(EventBridgeClient.prototype, 'send').mockImplementation(((command: never) => cloud.events.send(command)) as never);
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await cloud.close();
  });

  beforeEach(async () => {
    await cloud.reset();
    emitted = [];
    warned = [];
    jest.spyOn(console, 'log').mockImplementation((line: unknown) => void emitted.push(String(line)));
    jest.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => void warned.push(args));
  });

  it('Resolve starts the inference on the configured endpoint and flushes its request metrics and the arrivals the scaling policy reads', async () => {
    const waiting = cloud.openToken('entry-token-1');
    const outcome = await resolveHandler(request('entry-1', 1));

    expect(outcome).toMatchObject({ outcome: 'started', inferenceId: cloud.invocations[0]!.InferenceId });
    expect(cloud.invocations.map((i) => i.EndpointName)).toEqual([ENDPOINT]);
    expect(await cloud.item(`inference#${outcome.inferenceId}`, 'inference')).toMatchObject({ outputLocation: expect.stringMatching(`^s3://${defaultConfig.bucketName}/`) });

    const [service, scaling, ...more] = emitted.map((line) => JSON.parse(line) as Emf);
    expect(more).toEqual([]);
    expect(service!.service).toBe('imagegen-resolve');
    expect(service!._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'ImageGen', Dimensions: [['service', 'EndpointName']] });
    expect(service!.EndpointName).toBe(ENDPOINT);
    expect(metricsOf(service!)).toEqual({ Requests: [1, 'Count'], CacheMisses: [1, 'Count'] });
    // The scaling policy's query names {EndpointName} exactly: no service dimension on this document.
    expect(scaling!.service).toBeUndefined();
    expect(scaling!._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'ImageGen', Dimensions: [['EndpointName']] });
    expect(scaling!.EndpointName).toBe(ENDPOINT);
    expect(metricsOf(scaling!)).toEqual({ InferencesStarted: [1, 'Count'] });
    void waiting;
  });

  it('Complete delivers the finished image to the waiter and flushes its completion metrics', async () => {
    const waiting = cloud.openToken('entry-token-2');
    await resolveHandler(request('entry-2', 2));
    const { inferenceId, outputLocation } = await finishLastInference(cloud);
    emitted.length = 0;

    expect(await completeHandler(snsEvent(successNotification(inferenceId, outputLocation)))).toEqual([{ inferenceId, outcome: 'succeeded', completed: 1 }]);
    expect((await waiting) as SucceededDetail).toMatchObject({ requestId: 'entry-2', renditions: [{ width: 256, format: 'png' }] });

    const docs = emitted.map((line) => JSON.parse(line) as Emf);
    expect(docs).toHaveLength(1);
    expect(docs[0]!.service).toBe('imagegen-complete');
    expect(docs[0]!._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'ImageGen', Dimensions: [['service']] });
    expect(metricsOf(docs[0]!)).toEqual({ ImagesCompleted: [1, 'Count'], InferenceTime: [expect.any(Number), 'Milliseconds'] });
    expect(warned).toEqual([]);
  });

  it('Complete retries a model 5xx and counts the retry and the new attempt, the latter where the scaling policy reads it', async () => {
    void cloud.openToken('entry-token-3').catch(() => undefined);
    await resolveHandler(request('entry-3', 3));
    const first = cloud.invocations[0]!.InferenceId!;
    emitted.length = 0;

    const [summary] = await completeHandler(snsEvent(errorNotification(first, SERVER_ERROR), 'imagegen-inference-failed'));
    expect(summary).toMatchObject({ inferenceId: first, outcome: 'retried', retryId: cloud.invocations[1]!.InferenceId });

    const [service, scaling, ...more] = emitted.map((line) => JSON.parse(line) as Emf);
    expect(more).toEqual([]);
    expect(service!.service).toBe('imagegen-complete');
    expect(metricsOf(service!)).toEqual({ InferenceRetries: [1, 'Count'] });
    expect(scaling!.service).toBeUndefined();
    expect(scaling!._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'ImageGen', Dimensions: [['EndpointName']] });
    expect(metricsOf(scaling!)).toEqual({ InferencesStarted: [1, 'Count'] });
  });

  it('the reconciler settles an attempt whose notification never came and flushes what it did', async () => {
    const waiting = cloud.openToken('entry-token-4');
    await resolveHandler(request('entry-4', 4));
    await finishLastInference(cloud);
    emitted.length = 0;

    // The scheduled time a minute past the look-after delay: the attempt is due.
    const summary = await reconcileHandler({ time: new Date(Date.now() + 105_000).toISOString() });
    expect(summary).toMatchObject({ looked: 1, outcomes: { succeeded: 1 } });
    expect((await waiting) as SucceededDetail).toMatchObject({ requestId: 'entry-4' });

    const docs = emitted.map((line) => JSON.parse(line) as Emf);
    expect(docs).toHaveLength(1);
    expect(docs[0]!.service).toBe('imagegen-reconcile');
    expect(metricsOf(docs[0]!)).toEqual({ ImagesCompleted: [1, 'Count'], InferenceTime: [expect.any(Number), 'Milliseconds'], InferencesReconciled: [1, 'Count'] });
  });

  it('the reconciler retries an attempt lost past its deadline, counting the new attempt where the scaling policy reads it', async () => {
    void cloud.openToken('entry-token-5').catch(() => undefined);
    await resolveHandler(request('entry-5', 5));
    emitted.length = 0;

    const summary = await reconcileHandler({ time: new Date(Date.now() + 6 * 3600_000).toISOString() });
    expect(summary).toMatchObject({ looked: 1, outcomes: { retried: 1 } });
    expect(cloud.invocations).toHaveLength(2);

    const [service, scaling, ...more] = emitted.map((line) => JSON.parse(line) as Emf);
    expect(more).toEqual([]);
    expect(service!.service).toBe('imagegen-reconcile');
    expect(metricsOf(service!)).toMatchObject({ InferenceRetries: [1, 'Count'], InferencesReconciled: [1, 'Count'] });
    expect(scaling!.service).toBeUndefined();
    expect(metricsOf(scaling!)).toEqual({ InferencesStarted: [1, 'Count'] });
  });

  it('the reconciler, with nothing due, writes no metric document and no empty-flush warning', async () => {
    expect(await reconcileHandler({ time: new Date().toISOString() })).toMatchObject({ looked: 0, outcomes: {} });
    expect(emitted).toEqual([]);
    expect(warned).toEqual([]);
  });

  it('ReportFailure publishes on the configured bus and flushes the failure count', async () => {
    const report = await reportFailureHandler({ ...loadSample('image-generation-requested', 'minimal'), failure: { Error: 'InferenceFailed', Cause: 'ClientError: 400' } });
    expect(report).toEqual({ code: 'InferenceFailed', message: 'ClientError: 400' });
    expect(cloud.published).toEqual([expect.objectContaining({ EventBusName: BUS, DetailType: 'Image Generation Failed' })]);

    const docs = emitted.map((line) => JSON.parse(line) as Emf);
    expect(docs).toHaveLength(1);
    expect(docs[0]!.service).toBe('imagegen-report-failure');
    expect(docs[0]!._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'ImageGen', Dimensions: [['service']] });
    expect(metricsOf(docs[0]!)).toEqual({ Failures: [1, 'Count'] });
  });
});
