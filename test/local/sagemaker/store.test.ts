import { InvokeEndpointAsyncCommand } from '@aws-sdk/client-sagemaker-runtime';
import { ManualClock } from '../../../local/clock';
import type { Invocation } from '../../../local/sagemaker/models';
import { SqliteEndpointStore } from '../../../local/sagemaker/store';
import { scratchDatabase, type ScratchDatabase } from '../shared/scratch-database';
import { ENDPOINT, fakeContainer, startHarness, waitFor } from './harness';

const T0 = Date.parse('2026-01-01T00:00:00Z');

function invocation(id: string, input: Invocation['request']['input']): Invocation {
  return {
    id,
    inferenceId: `inference-${id}`,
    receivedAt: T0,
    request: { endpointName: ENDPOINT, contentType: 'application/json', input, requestTtlSeconds: 3600, invocationTimeoutSeconds: 900 },
    output: { bucket: 'imagegen-images', key: `async-output/${id}.out` },
    failure: { bucket: 'imagegen-images', key: `async-failures/${id}-error.out` },
  };
}

describe('SqliteEndpointStore', () => {
  let scratch: ScratchDatabase;
  beforeEach(() => {
    scratch = scratchDatabase('sagemaker-store');
  });
  afterEach(() => scratch.remove());

  it('reads back the accepted requests not finished, in order, with their body, InferenceId and output keys', () => {
    const store = new SqliteEndpointStore(scratch.db);
    const inline = invocation('a', { kind: 'inline', body: Buffer.from('{"inputs":"a cat"}') });
    const staged = invocation('b', { kind: 'location', location: 's3://imagegen-images/inputs/b.json', object: { bucket: 'imagegen-images', key: 'inputs/b.json' } });
    const done = invocation('c', { kind: 'inline', body: Buffer.from('{}') });
    for (const i of [inline, staged, done]) store.accept(i);
    store.finish(done);

    const reread = new SqliteEndpointStore(scratch.reopen());
    expect(reread.pending(ENDPOINT)).toEqual([inline, staged]);
    expect(reread.pending('another-endpoint')).toEqual([]);
  });
});

describe('the endpoint after a restart', () => {
  let scratch: ScratchDatabase;
  beforeEach(() => {
    scratch = scratchDatabase('sagemaker-resume');
  });
  afterEach(() => scratch.remove());

  it('runs the requests it had accepted, in flight or queued, under their InferenceIds and output keys', async () => {
    const silent = await fakeContainer(() => undefined);
    const before = await startHarness(silent.url, {}, 0, { database: scratch.db });
    const send = (id: string) =>
      before.client.send(new InvokeEndpointAsyncCommand({ EndpointName: ENDPOINT, InferenceId: id, ContentType: 'application/json', Body: Buffer.from(`{"inputs":"${id}"}`) }));
    const accepted = [await send('in-flight'), await send('queued')];
    await waitFor(() => silent.requests.length === 1, 'the first request at the model');
    await before.close();
    await silent.close();

    const model = await fakeContainer((body) => ({ status: 200, contentType: 'application/json', body: `{"echo":${body.toString()}}` }));
    const database = scratch.reopen();
    const after = await startHarness(model.url, {}, 0, { database });
    try {
      after.service.start();
      await waitFor(() => after.topics.results.length === 2, 'both results');
      expect(model.requests.map((r) => r.body.toString())).toEqual(['{"inputs":"in-flight"}', '{"inputs":"queued"}']);
      const results = after.topics.results.map((m) => JSON.parse(m.message) as { inferenceId: string; responseParameters: { outputLocation: string } });
      expect(results.map((r) => [r.inferenceId, r.responseParameters.outputLocation])).toEqual(accepted.map((a) => [a.InferenceId, a.OutputLocation]));
      expect(after.objects.at(accepted[1]?.OutputLocation ?? '')?.body.toString()).toBe('{"echo":{"inputs":"queued"}}');
      expect(new SqliteEndpointStore(database).pending(ENDPOINT)).toEqual([]);
    } finally {
      await after.close();
      await model.close();
    }
  });

  it("counts a request's RequestTTLSeconds from when it was received: one that expired while the process was down fails without running", async () => {
    const clock = new ManualClock(T0);
    const silent = await fakeContainer(() => undefined);
    const before = await startHarness(silent.url, { initialInstanceCount: 0 }, 0, { database: scratch.db, clock });
    const accepted = await before.client.send(
      new InvokeEndpointAsyncCommand({ EndpointName: ENDPOINT, InferenceId: 'late', ContentType: 'application/json', Body: Buffer.from('{}'), RequestTTLSeconds: 60 }),
    );
    await before.close();
    await silent.close();

    await clock.advance(61_000);
    const model = await fakeContainer(() => ({ status: 200, contentType: 'application/json', body: '{}' }));
    const after = await startHarness(model.url, {}, 0, { database: scratch.reopen(), clock });
    try {
      after.service.start();
      await clock.advance(0);
      await waitFor(() => after.topics.messages.some((m) => m.message.includes('"inferenceId":"late"')), 'the expiry notification');
      const failure = JSON.parse(after.topics.messages.find((m) => m.message.includes('"inferenceId":"late"'))?.message ?? '{}') as { invocationStatus: string; failureReason: string };
      expect(failure.invocationStatus).toBe('Failed');
      expect(failure.failureReason).toMatch(/TTL|expired/i);
      expect(after.objects.at(accepted.FailureLocation ?? '')).toBeDefined();
      expect(model.requests).toEqual([]);
    } finally {
      await after.close();
      await model.close();
    }
  });
});
