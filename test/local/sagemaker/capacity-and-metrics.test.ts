import { InvokeEndpointAsyncCommand, type InvokeEndpointAsyncCommandOutput } from '@aws-sdk/client-sagemaker-runtime';
import { INSTANCE_NAMESPACE, SAGEMAKER_NAMESPACE } from '../../../local/sagemaker/sagemaker-service';
import { ACCOUNT, controlPlane, ENDPOINT, ERROR_TOPIC, fakeContainer, startHarness, SUCCESS_TOPIC, waitFor, type FakeContainer, type Harness } from './harness';

const VARIANT = 'AllTraffic';
const inputLocation = 's3://imagegen-images/inputs/x.json';
const ok = (delayMs = 0) => () => ({ status: 200, contentType: 'application/json', body: '{"generated_images":[]}', delayMs });

describe('SageMaker async endpoint capacity, queue and metrics', () => {
  let h: Harness | undefined;
  let fake: FakeContainer | undefined;

  async function setup(reply: Parameters<typeof fakeContainer>[0], endpoint: Parameters<typeof startHarness>[1] = {}, lagSeconds: Parameters<typeof startHarness>[2] = 0): Promise<Harness> {
    fake = await fakeContainer(reply);
    h = await startHarness(fake.url, endpoint, lagSeconds);
    await h.objects.putObject('imagegen-images', 'inputs/x.json', Buffer.from('{"inputs":"x"}'), 'application/json');
    return h;
  }

  async function invoke(harness: Harness, extra: { RequestTTLSeconds?: number } = {}): Promise<InvokeEndpointAsyncCommandOutput> {
    return harness.client.send(new InvokeEndpointAsyncCommand({ EndpointName: ENDPOINT, InputLocation: inputLocation, ...extra }));
  }

  afterEach(async () => {
    await h?.close();
    await fake?.close();
    h = undefined;
    fake = undefined;
  });

  it('queues requests at zero instances and serves them once a new instance has started', async () => {
    const harness = await setup(ok(), { initialInstanceCount: 0, instanceStartupSeconds: 300 });
    await invoke(harness);
    await invoke(harness);
    await waitFor(() => harness.service.stats(ENDPOINT).queued === 2, 'both requests queued');
    expect(harness.service.stats(ENDPOINT)).toMatchObject({ queued: 2, inFlight: 0, processed: 0 });

    harness.service.setDesiredInstanceCount(ENDPOINT, VARIANT, 1);
    expect(harness.service.getCapacity(ENDPOINT, VARIANT)).toEqual({ current: 0, desired: 1 });
    await harness.clock.advance(299_000);
    expect(harness.service.stats(ENDPOINT)).toMatchObject({ queued: 2, instances: { inService: 0, pending: 1, desired: 1 } });
    await harness.clock.advance(1_000);
    expect(harness.service.getCapacity(ENDPOINT, VARIANT)).toEqual({ current: 1, desired: 1 });
    await waitFor(() => harness.topics.results.length === 2, 'both notifications');
    expect(harness.topics.results.every((m) => m.topicArn === SUCCESS_TOPIC)).toBe(true);
    expect(harness.service.stats(ENDPOINT)).toMatchObject({ queued: 0, inFlight: 0, processed: 2 });
  });

  it('runs at most instances × MaxConcurrentInvocationsPerInstance inferences at once', async () => {
    let open = (): void => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const harness = await setup(() => ({ status: 200, contentType: 'application/json', body: '{}', after: gate }), {
      initialInstanceCount: 2,
      maxConcurrentInvocationsPerInstance: 2,
    });
    for (let i = 0; i < 6; i++) await invoke(harness);
    await waitFor(() => fake?.requests.length === 4, 'four concurrent invocations');
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(fake?.requests).toHaveLength(4);
    expect(harness.service.stats(ENDPOINT)).toMatchObject({ queued: 2, inFlight: 4 });
    open();
    await waitFor(() => harness.topics.messages.length === 6, 'all notifications');
    expect(fake?.maxActive).toBe(4);
    expect(harness.service.stats(ENDPOINT)).toMatchObject({ queued: 0, inFlight: 0, processed: 6 });
  });

  it('scales in by letting busy instances finish and removing idle ones at once', async () => {
    let open = (): void => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const harness = await setup(() => ({ status: 200, contentType: 'application/json', body: '{}', after: gate }), {
      initialInstanceCount: 2,
      maxConcurrentInvocationsPerInstance: 1,
    });
    for (let i = 0; i < 3; i++) await invoke(harness);
    await waitFor(() => fake?.requests.length === 2, 'two invocations');
    harness.service.setDesiredInstanceCount(ENDPOINT, VARIANT, 1);
    expect(harness.service.getCapacity(ENDPOINT, VARIANT)).toEqual({ current: 2, desired: 1 });
    expect(harness.service.stats(ENDPOINT)).toMatchObject({ queued: 1, inFlight: 2 });
    open();
    await waitFor(() => harness.topics.results.length === 3, 'all notifications');
    expect(harness.service.getCapacity(ENDPOINT, VARIANT)).toEqual({ current: 1, desired: 1 });
    harness.service.setDesiredInstanceCount(ENDPOINT, VARIANT, 0);
    expect(harness.service.getCapacity(ENDPOINT, VARIANT)).toEqual({ current: 0, desired: 0 });
  });

  it('cancels instances still starting when scaled back in', async () => {
    const harness = await setup(ok(), { initialInstanceCount: 0, instanceStartupSeconds: 60 });
    harness.service.setDesiredInstanceCount(ENDPOINT, VARIANT, 2);
    await harness.clock.advance(30_000);
    harness.service.setDesiredInstanceCount(ENDPOINT, VARIANT, 1);
    await harness.clock.advance(30_000);
    expect(harness.service.stats(ENDPOINT).instances).toEqual({ inService: 1, pending: 0, desired: 1 });
  });

  it('fails a request that waits longer than RequestTTLSeconds without running it', async () => {
    const harness = await setup(ok(), { initialInstanceCount: 0, instanceStartupSeconds: 60 });
    const result = await invoke(harness, { RequestTTLSeconds: 60 });
    await harness.clock.advance(59_999);
    expect(harness.topics.messages).toHaveLength(0);
    await harness.clock.advance(1);
    await waitFor(() => harness.topics.messages.length === 1, 'the error notification');
    expect(harness.topics.messages[0]?.topicArn).toBe(ERROR_TOPIC);
    const message = JSON.parse(harness.topics.messages[0]?.message ?? '{}') as { failureReason: string; invocationStatus: string };
    expect(message.invocationStatus).toBe('Failed');
    expect(message.failureReason).toMatch(/expired after waiting 60 seconds in the queue/);
    expect(harness.objects.at(result.FailureLocation ?? '')).toBeDefined();
    expect(harness.service.stats(ENDPOINT)).toMatchObject({ queued: 0, failed: 1 });

    harness.service.setDesiredInstanceCount(ENDPOINT, VARIANT, 1);
    await harness.clock.advance(60_000);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(fake?.requests).toHaveLength(0);
  });

  it('aborts in-flight invocations on close and publishes nothing for them', async () => {
    const harness = await setup(() => undefined);
    await invoke(harness);
    await waitFor(() => fake?.requests.length === 1, 'the container to be called');
    await harness.service.close();
    expect(harness.topics.messages).toHaveLength(0);
    expect(harness.objects.objects.size).toBe(1);
    expect(harness.service.stats(ENDPOINT)).toMatchObject({ queued: 0, inFlight: 0 });
  });

  it('rejects a negative desired count and an unknown variant', async () => {
    const harness = await setup(ok());
    expect(() => harness.service.setDesiredInstanceCount(ENDPOINT, VARIANT, -1)).toThrow('DesiredInstanceCount must be an integer greater than or equal to 0');
    expect(() => harness.service.getCapacity(ENDPOINT, 'Other')).toThrow('The variant(s) "[Other]" is/are not present');
    expect(() => harness.service.stats('nope')).toThrow('Could not find endpoint');
  });

  describe('metrics', () => {
    const value = (harness: Harness, namespace: string, name: string): number[] => harness.metrics.find(namespace, name).map((d) => d.value);

    it('publishes explicit zeros every minute while idle, each datapoint stamped with the start of its minute', async () => {
      const harness = await setup(ok());
      harness.service.start();
      const minuteStart = harness.clock.now();
      await harness.clock.advance(59_999);
      expect(harness.metrics.batches).toHaveLength(0);
      await harness.clock.advance(1);
      for (const name of ['ApproximateBacklogSize', 'ApproximateBacklogSizePerInstance', 'ApproximateAgeOfOldestRequest', 'HasBacklogWithoutCapacity']) {
        const [datum] = harness.metrics.find(SAGEMAKER_NAMESPACE, name);
        expect(datum).toEqual(expect.objectContaining({ value: 0, dimensions: { EndpointName: ENDPOINT }, timestamp: minuteStart }));
      }
      for (const name of ['InvocationsProcessed', 'InvocationFailures', 'ExpiredRequests']) {
        const [datum] = harness.metrics.find(SAGEMAKER_NAMESPACE, name);
        expect(datum).toEqual(expect.objectContaining({ value: 0, dimensions: { EndpointName: ENDPOINT, VariantName: VARIANT } }));
      }
      expect(harness.metrics.find(SAGEMAKER_NAMESPACE, 'ModelLatency')).toHaveLength(0);
      expect(value(harness, INSTANCE_NAMESPACE, 'CPUUtilization')).toEqual([0]);
      await harness.clock.advance(60_000);
      expect(value(harness, SAGEMAKER_NAMESPACE, 'ApproximateBacklogSize')).toEqual([0, 0]);
    });

    it('publishes no Invocations metric: async endpoints do not (a real-time endpoint metric)', async () => {
      const harness = await setup(ok());
      harness.service.start();
      await invoke(harness);
      await waitFor(() => harness.topics.results.length === 1, 'the notification');
      await harness.clock.advance(60_000);
      expect(harness.metrics.find(SAGEMAKER_NAMESPACE, 'Invocations')).toEqual([]);
      expect(value(harness, SAGEMAKER_NAMESPACE, 'InvocationsProcessed')).toEqual([1]);
    });

    it('makes a minute readable only after the metrics lag (two minutes by default), so its minute just closed reads as no data', async () => {
      const harness = await setup(ok(), { initialInstanceCount: 0 }, 'service default');
      harness.service.start();
      const minuteStart = harness.clock.now();
      await invoke(harness);
      await harness.clock.advance(60_000 + 119_999);
      expect(harness.metrics.batches).toHaveLength(0);
      await harness.clock.advance(1);
      expect(harness.metrics.find(SAGEMAKER_NAMESPACE, 'HasBacklogWithoutCapacity')).toEqual([expect.objectContaining({ value: 1, timestamp: minuteStart })]);
      // The next two minutes are closed but not readable yet; each lands two minutes after it closes.
      expect(value(harness, SAGEMAKER_NAMESPACE, 'ApproximateBacklogSize')).toEqual([1]);
      await harness.clock.advance(60_000);
      expect(value(harness, SAGEMAKER_NAMESPACE, 'ApproximateBacklogSize')).toEqual([1, 1]);
      // No instance in service: no CPU sample at all, which is not the same as a sample of zero.
      expect(harness.metrics.find(INSTANCE_NAMESPACE, 'CPUUtilization')).toEqual([]);
    });

    it('aligns metrics minutes to whole minutes of the clock, whenever the endpoint starts', async () => {
      const harness = await setup(ok());
      await harness.clock.advance(25_000);
      harness.service.start();
      await harness.clock.advance(34_999);
      expect(harness.metrics.batches).toHaveLength(0);
      await harness.clock.advance(1);
      expect(harness.metrics.find(SAGEMAKER_NAMESPACE, 'ApproximateBacklogSize')[0]?.timestamp).toBe(Date.parse('2026-01-01T00:00:00Z'));
    });

    it('reports a backlog without capacity, its age and one CPU sample per instance', async () => {
      const harness = await setup(ok(), { initialInstanceCount: 0, instanceStartupSeconds: 90 });
      harness.service.start();
      await invoke(harness);
      await invoke(harness);
      harness.service.setDesiredInstanceCount(ENDPOINT, VARIANT, 2);
      await harness.clock.advance(60_000);
      expect(value(harness, SAGEMAKER_NAMESPACE, 'HasBacklogWithoutCapacity')).toEqual([1]);
      expect(value(harness, SAGEMAKER_NAMESPACE, 'ApproximateBacklogSize')).toEqual([2]);
      expect(value(harness, SAGEMAKER_NAMESPACE, 'ApproximateBacklogSizePerInstance')).toEqual([2]);
      expect(value(harness, SAGEMAKER_NAMESPACE, 'ApproximateAgeOfOldestRequest')).toEqual([60]);
      expect(value(harness, INSTANCE_NAMESPACE, 'CPUUtilization')).toEqual([]);

      await harness.clock.advance(30_000);
      await waitFor(() => harness.topics.results.length === 2, 'both notifications');
      await harness.clock.advance(30_000);
      expect(value(harness, SAGEMAKER_NAMESPACE, 'HasBacklogWithoutCapacity')).toEqual([1, 0]);
      expect(value(harness, SAGEMAKER_NAMESPACE, 'InvocationsProcessed')).toEqual([0, 2]);
      const latencies = harness.metrics.find(SAGEMAKER_NAMESPACE, 'ModelLatency');
      expect(latencies).toHaveLength(2);
      expect(latencies.every((d) => d.unit === 'Microseconds' && d.value > 0)).toBe(true);
      const cpu = harness.metrics.find(INSTANCE_NAMESPACE, 'CPUUtilization');
      expect(cpu).toHaveLength(2);
      expect(cpu.every((d) => d.dimensions.EndpointName === ENDPOINT && d.dimensions.VariantName === VARIANT)).toBe(true);
    });

    it('measures ModelLatency on the endpoint clock', async () => {
      let answer = (): void => undefined;
      const harness = await setup(() => ({ status: 200, contentType: 'application/json', body: '{}', after: new Promise<void>((resolve) => (answer = resolve)) }));
      harness.service.start();
      await invoke(harness);
      await waitFor(() => fake?.requests.length === 1, 'the container to be called');
      await harness.clock.advance(20_000);
      answer();
      await waitFor(() => harness.topics.results.length === 1, 'the notification');
      await harness.clock.advance(40_000);
      expect(value(harness, SAGEMAKER_NAMESPACE, 'ModelLatency')).toEqual([20_000_000]);
    });

    it('counts model failures in InvocationFailures', async () => {
      const harness = await setup(() => ({ status: 500, contentType: 'text/plain', body: 'boom' }));
      harness.service.start();
      await invoke(harness);
      await waitFor(() => harness.topics.results.length === 1, 'the error notification');
      await harness.clock.advance(60_000);
      expect(value(harness, SAGEMAKER_NAMESPACE, 'InvocationFailures')).toEqual([1]);
      expect(value(harness, SAGEMAKER_NAMESPACE, 'InvocationsProcessed')).toEqual([0]);
    });
  });

  describe('test notifications', () => {
    const documented = { eventVersion: '1.0', eventSource: 'aws:sagemaker', eventName: 'TestNotification' };

    it('sends the documented TestNotification, and nothing else, to both topics when the endpoint is created', async () => {
      const harness = await setup(ok());
      harness.service.start();
      await waitFor(() => harness.topics.messages.length === 2, 'two test notifications');
      expect(harness.topics.messages.map((m) => m.topicArn).sort()).toEqual([ERROR_TOPIC, SUCCESS_TOPIC].sort());
      for (const m of harness.topics.messages) expect(JSON.parse(m.message)).toEqual(documented);
      // A second start of the same service is not a second deployment.
      harness.service.start();
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(harness.topics.messages).toHaveLength(2);
    });

    it('sends it again to both topics after every capacity change, from the API or from Application Auto Scaling', async () => {
      const harness = await setup(ok(), { initialInstanceCount: 1, instanceStartupSeconds: 60 });
      harness.service.setDesiredInstanceCount(ENDPOINT, VARIANT, 2);
      await waitFor(() => harness.topics.tests.length === 2, 'after the first change');
      await controlPlane(harness.url, 'UpdateEndpointWeightsAndCapacities', { EndpointName: ENDPOINT, DesiredWeightsAndCapacities: [{ VariantName: VARIANT, DesiredInstanceCount: 0 }] });
      await waitFor(() => harness.topics.tests.length === 4, 'after the second change');
      expect(harness.topics.tests.filter((m) => m.topicArn === SUCCESS_TOPIC)).toHaveLength(2);
      expect(harness.topics.tests.filter((m) => m.topicArn === ERROR_TOPIC)).toHaveLength(2);
      expect(harness.topics.results).toEqual([]);
    });
  });

  describe('control plane (JSON 1.1)', () => {
    it('describes the endpoint with its variant counts and async configuration', async () => {
      const harness = await setup(ok(), { initialInstanceCount: 1, maxConcurrentInvocationsPerInstance: 12 });
      const { status, json } = await controlPlane(harness.url, 'DescribeEndpoint', { EndpointName: ENDPOINT });
      expect(status).toBe(200);
      expect(json).toEqual({
        EndpointName: ENDPOINT,
        EndpointArn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:endpoint/${ENDPOINT}`,
        EndpointConfigName: ENDPOINT,
        ProductionVariants: [{ VariantName: VARIANT, CurrentWeight: 1, DesiredWeight: 1, CurrentInstanceCount: 1, DesiredInstanceCount: 1 }],
        EndpointStatus: 'InService',
        CreationTime: harness.clock.now() / 1000,
        LastModifiedTime: harness.clock.now() / 1000,
        AsyncInferenceConfig: {
          ClientConfig: { MaxConcurrentInvocationsPerInstance: 12 },
          OutputConfig: {
            S3OutputPath: 's3://imagegen-images/async-output/',
            S3FailurePath: 's3://imagegen-images/async-failures/',
            NotificationConfig: { SuccessTopic: SUCCESS_TOPIC, ErrorTopic: ERROR_TOPIC },
          },
        },
      });
    });

    it('changes the desired instance count through UpdateEndpointWeightsAndCapacities', async () => {
      const harness = await setup(ok(), { initialInstanceCount: 1, instanceStartupSeconds: 120 });
      const update = await controlPlane(harness.url, 'UpdateEndpointWeightsAndCapacities', {
        EndpointName: ENDPOINT,
        DesiredWeightsAndCapacities: [{ VariantName: VARIANT, DesiredInstanceCount: 3 }],
      });
      expect(update).toMatchObject({ status: 200, json: { EndpointArn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:endpoint/${ENDPOINT}` } });
      const updating = await controlPlane(harness.url, 'DescribeEndpoint', { EndpointName: ENDPOINT });
      expect(updating.json).toMatchObject({ EndpointStatus: 'Updating', ProductionVariants: [{ CurrentInstanceCount: 1, DesiredInstanceCount: 3 }] });
      await harness.clock.advance(120_000);
      const done = await controlPlane(harness.url, 'DescribeEndpoint', { EndpointName: ENDPOINT });
      expect(done.json).toMatchObject({ EndpointStatus: 'InService', ProductionVariants: [{ CurrentInstanceCount: 3, DesiredInstanceCount: 3 }] });
      const list = await controlPlane(harness.url, 'ListEndpoints', { NameContains: 'SDXL' });
      expect(list.json).toEqual({
        Endpoints: [
          {
            EndpointName: ENDPOINT,
            EndpointArn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:endpoint/${ENDPOINT}`,
            CreationTime: harness.clock.now() / 1000 - 120,
            LastModifiedTime: harness.clock.now() / 1000 - 120,
            EndpointStatus: 'InService',
          },
        ],
      });
      expect((await controlPlane(harness.url, 'ListEndpoints', { NameContains: 'other' })).json).toEqual({ Endpoints: [] });
    });

    it.each([
      ['DescribeEndpoint', { EndpointName: 'nope' }, `Could not find endpoint "arn:aws:sagemaker:us-east-1:${ACCOUNT}:endpoint/nope".`],
      ['DescribeEndpoint', {}, "Value null at 'endpointName' failed to satisfy constraint: Member must not be null"],
      [
        'UpdateEndpointWeightsAndCapacities',
        { EndpointName: ENDPOINT, DesiredWeightsAndCapacities: [{ VariantName: VARIANT, DesiredInstanceCount: -1 }] },
        'Member must have value greater than or equal to 0',
      ],
      [
        'UpdateEndpointWeightsAndCapacities',
        { EndpointName: ENDPOINT, DesiredWeightsAndCapacities: [{ VariantName: 'Other', DesiredInstanceCount: 1 }] },
        'The variant(s) "[Other]" is/are not present in the endpoint',
      ],
      ['UpdateEndpointWeightsAndCapacities', { EndpointName: ENDPOINT, DesiredWeightsAndCapacities: [] }, 'Member must have length greater than or equal to 1'],
    ])('%s rejects %j with ValidationException', async (operation, body, message) => {
      const harness = await setup(ok());
      const { status, headers, json } = await controlPlane(harness.url, operation, body);
      expect(status).toBe(400);
      expect(headers.get('x-amzn-errortype')).toBe('ValidationException');
      expect(json.__type).toBe('ValidationException');
      expect(json.message).toContain(message);
      expect(harness.service.getCapacity(ENDPOINT, VARIANT)).toEqual({ current: 1, desired: 1 });
    });

    it('rejects operations it does not emulate', async () => {
      const harness = await setup(ok());
      const { status, json } = await controlPlane(harness.url, 'CreateEndpoint', { EndpointName: 'x' });
      expect(status).toBe(400);
      expect(json.__type).toBe('UnknownOperationException');
    });
  });
});
