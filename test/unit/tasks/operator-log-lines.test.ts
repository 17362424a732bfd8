/**
 * The log lines an operator reads to follow a request without its execution history: each names
 * what happened and carries the ids to look it up by (requestId, cacheKey, inferenceId). Warnings
 * mark what was dropped or worked around; the rest are info.
 */
import { InvokeEndpointAsyncCommand, ServiceUnavailable } from '@aws-sdk/client-sagemaker-runtime';
import { TaskTimedOut, SendTaskFailureCommand, SendTaskSuccessCommand, TaskDoesNotExist } from '@aws-sdk/client-sfn';
import { loadSample } from '../../../events/samples';
import { complete } from '../../../tasks/complete/complete';
import { reconcile } from '../../../tasks/reconcile/reconcile';
import { reportFailure } from '../../../tasks/report-failure/report-failure';
import { resolve, type ResolveInput } from '../../../tasks/resolve/resolve';
import { sendFailure, sendSuccess } from '../../../tasks/shared/tokens';
import { RecordedClients } from '../../workflows/recorded-clients';
import { TestCloud } from '../../workflows/test-cloud';
import {
  LogRecorder,
  TestClock,
  errorNotification,
  finishLastInference,
  reportDeps,
  resolveDeps,
  settleConfig,
  settleDeps,
  snsEvent,
  successNotification,
} from '../../workflows/harness';

const EXEC = 'arn:aws:states:us-east-1:000000000000:execution:imagegen-request:e1';
const SERVER_ERROR = 'ClientError: Received server error (500) from model. See the SageMaker Endpoint logs in your account for more information.';
const CLIENT_ERROR = 'ClientError: Received client error (400) from model with message "bad input". See the SageMaker Endpoint logs in your account for more information.';
const input = (requestId: string, token: string, exec = EXEC): ResolveInput => {
  const event = loadSample('image-generation-requested', 'minimal');
  return { event: { ...event, detail: { requestId, prompt: 'a cat' } }, taskToken: token, executionArn: exec } as ResolveInput;
};

describe('operator log lines', () => {
  let cloud: TestCloud;
  let clock: TestClock;
  let logs: LogRecorder;
  const resolving = () => ({ ...resolveDeps(cloud, clock), logger: logs.sink });
  const settling = () => ({ ...settleDeps(cloud, clock), logger: logs.sink });

  beforeAll(async () => {
    cloud = await TestCloud.start();
  });
  afterAll(() => cloud.close());
  beforeEach(async () => {
    await cloud.reset();
    clock = new TestClock();
    logs = new LogRecorder();
  });

  it('Resolve says which inference it started and which request joined one already running', async () => {
    const started = await resolve(input('r1', 'token-1'), resolving());
    const inferenceId = started.outcome === 'started' ? started.inferenceId : '';
    await resolve(input('r2', 'token-2', `${EXEC}-2`), resolving());
    expect(logs.lines).toEqual([
      { level: 'info', message: 'started inference', context: { requestId: 'r1', cacheKey: started.cacheKey, inferenceId } },
      { level: 'info', message: 'joined in-flight inference', context: { requestId: 'r2', cacheKey: started.cacheKey } },
    ]);
  });

  it('Resolve says when it starts an inference an earlier try of the same execution left unconfirmed', async () => {
    const first = await resolve(input('r1', 'token-1'), resolving());
    const inferenceId = first.outcome === 'started' ? first.inferenceId : '';
    await cloud.updateItem(`inference#${inferenceId}`, 'inference', {}, ['outputLocation']);
    logs.lines.length = 0;
    await resolve(input('r1', 'token-1b'), resolving());
    expect(logs.lines).toEqual([
      { level: 'info', message: 'starting the inference an earlier attempt left unconfirmed', context: { requestId: 'r1', cacheKey: first.cacheKey, inferenceId } },
      { level: 'info', message: 'started inference', context: { requestId: 'r1', cacheKey: first.cacheKey, inferenceId } },
    ]);
  });

  it("Complete logs SageMaker's TestNotification it ignores, with the topic and message it came in", async () => {
    await complete(snsEvent({ eventVersion: '1.0', eventSource: 'aws:sagemaker', eventName: 'TestNotification' }), settling());
    expect(logs.lines).toEqual([
      {
        level: 'info',
        message: 'ignoring SageMaker test notification',
        context: { topicArn: 'arn:aws:sns:us-east-1:000000000000:imagegen-inference-succeeded', messageId: 'c9cafd57-db5c-5f85-9c8f-a1b1e8b5a527' },
      },
    ]);
  });

  it('Complete warns of a notification for an inference it has no record of', async () => {
    await complete(snsEvent(successNotification('not-ours', 's3://imagegen-images/async-output/not-ours.out')), settling());
    expect(logs.lines).toEqual([{ level: 'warn', message: 'notification for an unknown inference', context: { inferenceId: 'not-ours' } }]);
  });

  it('Complete says how many waiters a finished inference completed', async () => {
    const started = await resolve(input('r1', 'token-1'), resolveDeps(cloud, clock));
    await resolve(input('r2', 'token-2', `${EXEC}-2`), resolveDeps(cloud, clock));
    const tokens = ['token-1', 'token-2'].map((t) => cloud.openToken(t));
    const { inferenceId, outputLocation } = await finishLastInference(cloud);
    await complete(snsEvent(successNotification(inferenceId, outputLocation)), settling());
    await Promise.all(tokens);
    expect(logs.lines).toEqual([{ level: 'info', message: 'inference completed', context: { inferenceId, cacheKey: started.cacheKey, waiters: 2, completed: 2 } }]);
  });

  it('Complete warns, naming the location, when the failure object it was pointed at cannot be read', async () => {
    await resolve(input('r1', 'token-1'), resolveDeps(cloud, clock));
    const inferenceId = cloud.invocations[0]!.InferenceId!;
    const location = 's3://imagegen-images/async-failures/never-written.out';
    await complete(snsEvent(errorNotification(inferenceId, 'ClientError: Received server error (500) from model.', { failureLocation: location }), 'imagegen-inference-failed'), settling());
    expect(logs.lines[0]).toMatchObject({ level: 'warn', message: 'could not read failure location', context: { location } });
    expect(String(logs.lines[0]!.context!.error)).toMatch(/NoSuchKey/);
  });

  it('the reconciler says which attempt it settled without a notification, what it found and the outcome', async () => {
    const started = await resolve(input('r1', 'token-1'), resolveDeps(cloud, clock));
    const token = cloud.openToken('token-1');
    const { inferenceId } = await finishLastInference(cloud);
    clock.advance(60_000);
    await reconcile(undefined, settling());
    await token;
    expect(logs.lines).toContainEqual({
      level: 'info',
      message: 'settled an attempt without its notification',
      context: { inferenceId, cacheKey: started.cacheKey, found: 'output', outcome: 'succeeded' },
    });
  });

  it('ReportFailure logs each failure it reported, by request and code', async () => {
    const recorded = new RecordedClients();
    const event = loadSample('image-generation-requested', 'full');
    await reportFailure({ ...event, failure: { Error: 'InferenceFailed', Cause: 'ClientError: 500' } }, { ...reportDeps(recorded, clock), logger: logs.sink });
    expect(logs.lines).toEqual([{ level: 'info', message: 'reported failure', context: { requestId: event.detail.requestId, code: 'InferenceFailed' } }]);
  });

  it('a callback on a token already closed is logged with the error Step Functions gave', async () => {
    const recorded = new RecordedClients();
    const answer = { message: 'from Step Functions', $metadata: { httpStatusCode: 400 } };
    recorded.sfnMock.on(SendTaskSuccessCommand).rejects(new TaskTimedOut(answer)).on(SendTaskFailureCommand).rejects(new TaskDoesNotExist(answer));
    await sendSuccess(recorded.sfn, 't1', {}, logs.sink);
    await sendFailure(recorded.sfn, 't2', 'InferenceFailed', 'model error', logs.sink);
    expect(logs.lines).toEqual([
      { level: 'info', message: 'task token already closed', context: { error: 'TaskTimedOut' } },
      { level: 'info', message: 'task token already closed', context: { error: 'TaskDoesNotExist' } },
    ]);
  });

  describe('settling a failed inference', () => {
    let cacheKey: string;
    let inferenceId: string;
    /** A failure notification whose failure object holds the model's response, so the reason is read whole. */
    const fail = async (reason: string) => {
      const item = (await cloud.item(`inference#${inferenceId}`, 'inference'))!;
      await cloud.putObject(String(item.failureLocation), 'model said no');
      return complete(snsEvent(errorNotification(inferenceId, reason), 'imagegen-inference-failed'), settling());
    };

    beforeEach(async () => {
      cacheKey = (await resolve(input('r1', 'token-1'), resolveDeps(cloud, clock))).cacheKey;
      inferenceId = cloud.invocations[0]!.InferenceId!;
      void cloud.openToken('token-1').catch(() => undefined);
    });

    it('warns of each retry: which attempt failed, the new one, how many of how many, and why', async () => {
      const [summary] = await fail(SERVER_ERROR);
      const retryId = (summary as { retryId: string }).retryId;
      expect(logs.lines).toEqual([
        {
          level: 'warn',
          message: 'inference failed, retrying',
          context: { inferenceId, retryId, attempt: 2, of: 1 + settleConfig.inferenceRetries, cacheKey, reason: `${SERVER_ERROR} (model response: model said no)` },
        },
      ]);
    });

    it('logs an error when the endpoint refuses the retry, which is left to the reconciler', async () => {
      cloud.sagemakerMock.on(InvokeEndpointAsyncCommand).rejects(new ServiceUnavailable({ message: 'Service Unavailable', $metadata: { httpStatusCode: 503 } }));
      const [summary] = await fail(SERVER_ERROR);
      const retryId = (summary as { retryId: string }).retryId;
      expect(logs.lines.map((l) => [l.level, l.message])).toEqual([
        ['error', 'could not start the retry'],
        ['warn', 'inference failed, retrying'],
      ]);
      expect(logs.lines[0]!.context).toEqual({ inferenceId: retryId, cacheKey, error: expect.stringContaining('Service Unavailable') });
    });

    it('warns of a failed image with its error, cause and the waiters told', async () => {
      await fail(CLIENT_ERROR);
      expect(logs.lines).toEqual([
        {
          level: 'warn',
          message: 'inference failed',
          context: { inferenceId, cacheKey, error: 'InferenceFailed', cause: `${CLIENT_ERROR} (model response: model said no)`, waiters: 1 },
        },
      ]);
    });

    it('says when it ignores the end of an attempt whose image moved on to a newer one', async () => {
      await cloud.updateItem(`image#${cacheKey}`, 'lease', { inferenceId: 'a-newer-attempt' });
      await fail(CLIENT_ERROR);
      expect(logs.lines).toEqual([{ level: 'info', message: 'ignoring the end of a superseded attempt', context: { inferenceId, cacheKey } }]);
    });

    it('says when another settlement moved the image on before its retry could', async () => {
      // Between writing the retry's attempt and moving the lease to it.
      cloud.afterSend('PutCommand', async (i) => {
        if ((i.Item as { sk?: string }).sk === 'inference') await cloud.updateItem(`image#${cacheKey}`, 'lease', { inferenceId: 'a-newer-attempt' });
      });
      await fail(SERVER_ERROR);
      expect(logs.lines).toEqual([{ level: 'info', message: 'another settlement already handled this attempt', context: { inferenceId, cacheKey } }]);
    });
  });
});
