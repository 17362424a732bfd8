/**
 * Delivery faults on the pipeline's messages, one kind at a time, each injected through the local
 * cloud's fault rules: SNS completion notifications dropped, duplicated and delayed; the request
 * event dropped, duplicated and delayed by EventBridge. Every request ends — completed, or recovered
 * — never left running, and a duplicate never costs a second inference.
 */
import { EventBridgeClient, StartReplayCommand } from '@aws-sdk/client-eventbridge';
import { names } from '../../../topology/imagegen-topology';
import { ChaosPipeline } from './pipeline-harness';

jest.setTimeout(180_000);

const SUCCEEDED_TOPIC = names.successTopic;

describe('delivery faults', () => {
  let pipeline: ChaosPipeline;

  beforeAll(async () => {
    pipeline = await ChaosPipeline.start();
  });
  afterAll(async () => {
    await pipeline?.close();
  });
  afterEach(() => pipeline.cloud.faults.replace({ rules: [] }));

  const outputLanded = async (before: number) => (await pipeline.outputs()) > before;

  it('sns drop: a request whose success notification is lost completes within 2 minutes of its output landing', async () => {
    pipeline.cloud.faults.replace({ seed: 1, rules: [{ service: 'sns', topic: SUCCEEDED_TOPIC, action: 'drop', probability: 1 }] });
    const outputs = await pipeline.outputs();
    const invocations = pipeline.completeInvocations();
    await pipeline.send('drop-1', 'a lighthouse whose notification is lost');
    const landed = await pipeline.advanceUntil(() => outputLanded(outputs), 'the output landed', 60_000);

    const [outcome, ...others] = await pipeline.finish('drop-1', 300_000);
    expect(others).toEqual([]);
    expect(outcome?.status).toBe('SUCCEEDED');
    expect((outcome?.stopMs ?? Infinity) - landed).toBeLessThanOrEqual(120_000);
    // The notification never reached Complete: the request was settled without it.
    expect(pipeline.completeInvocations()).toBe(invocations);
    expect(pipeline.cloud.faults.fired()).toEqual([1]);
  });

  it('sns duplicate: Complete runs twice, the request succeeds once, on one inference', async () => {
    pipeline.cloud.faults.replace({ seed: 1, rules: [{ service: 'sns', action: 'duplicate', probability: 1 }] });
    const outputs = await pipeline.outputs();
    const invocations = pipeline.completeInvocations();
    await pipeline.send('duplicate-1', 'a koi pond notified twice');

    const outcomes = await pipeline.finish('duplicate-1', 120_000);
    expect(outcomes.map((o) => o.status)).toEqual(['SUCCEEDED']);
    await pipeline.advanceUntil(async () => pipeline.completeInvocations() >= invocations + 2, 'both deliveries ran', 30_000);
    expect(pipeline.completeInvocations()).toBe(invocations + 2);
    expect(pipeline.completeErrors()).toBe(0);
    expect(await pipeline.outputs()).toBe(outputs + 1);
  });

  it('sns delay: the request completes when the delayed notification arrives, not before', async () => {
    pipeline.cloud.faults.replace({ seed: 1, rules: [{ service: 'sns', topic: SUCCEEDED_TOPIC, action: 'delay', delayMs: 20_000, probability: 1 }] });
    const outputs = await pipeline.outputs();
    await pipeline.send('delay-1', 'a windmill notified late');
    const landed = await pipeline.advanceUntil(() => outputLanded(outputs), 'the output landed', 60_000);
    await pipeline.advance(15_000);
    expect((await pipeline.executions('delay-1')).map((o) => o.status)).toEqual(['RUNNING']);

    const [outcome] = await pipeline.finish('delay-1', 60_000);
    expect(outcome?.status).toBe('SUCCEEDED');
    expect((outcome?.stopMs ?? 0) - landed).toBeGreaterThanOrEqual(19_000);
  });

  it('events duplicate: the request starts two executions, both succeed, on one inference', async () => {
    pipeline.cloud.faults.replace({ seed: 1, rules: [{ service: 'events', rule: names.requestRule, action: 'duplicate', probability: 1 }] });
    const outputs = await pipeline.outputs();
    await pipeline.send('events-duplicate-1', 'a harbour delivered twice');

    const outcomes = await pipeline.finish('events-duplicate-1', 120_000);
    expect(outcomes.map((o) => o.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(await pipeline.outputs()).toBe(outputs + 1);
  });

  it('events delay: the execution starts once the delay has passed', async () => {
    pipeline.cloud.faults.replace({ seed: 1, rules: [{ service: 'events', rule: names.requestRule, action: 'delay', delayMs: 10_000, probability: 1 }] });
    const sent = pipeline.clock.now();
    await pipeline.send('events-delay-1', 'a glacier delivered late');
    await pipeline.advance(8_000);
    expect(await pipeline.executions('events-delay-1')).toEqual([]);

    const [outcome] = await pipeline.finish('events-delay-1', 120_000);
    expect(outcome?.status).toBe('SUCCEEDED');
    expect((outcome?.startMs ?? 0) - sent).toBeGreaterThanOrEqual(10_000);
  });

  it('events drop: no execution starts; the archive kept the event, and replaying it runs the request to success', async () => {
    pipeline.cloud.faults.replace({ seed: 1, rules: [{ service: 'events', rule: names.requestRule, action: 'drop', probability: 1 }] });
    const sent = pipeline.clock.now();
    await pipeline.send('events-drop-1', 'a meadow whose event is dropped');
    await pipeline.advance(30_000);
    expect(await pipeline.executions('events-drop-1')).toEqual([]);

    pipeline.cloud.faults.replace({ rules: [] });
    const events = new EventBridgeClient({ endpoint: pipeline.cloud.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    await events.send(
      new StartReplayCommand({
        ReplayName: 'chaos-events-drop',
        EventSourceArn: `arn:aws:events:us-east-1:000000000000:archive/${names.requestArchive}`,
        EventStartTime: new Date(sent - 1000),
        EventEndTime: new Date(pipeline.clock.now()),
        Destination: { Arn: 'arn:aws:events:us-east-1:000000000000:event-bus/imagegen' },
      }),
    );
    const outcomes = await pipeline.finish('events-drop-1', 120_000);
    expect(outcomes.map((o) => o.status)).toEqual(['SUCCEEDED']);
  });
});
