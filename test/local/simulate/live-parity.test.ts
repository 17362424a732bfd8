/**
 * The simulator against the local control plane it models, on one manual clock: the emulated async
 * endpoint (60 s start-up, a container that takes exactly 6 s of clock time per image, its minute
 * metrics landing 120 s late), the local CloudWatch, the real publish-utilization core through the
 * SDK, InferencesStarted as Resolve emits it, and the real autoscaler with the stack's policies. The
 * same trace through `simulate` with the same parameters must give instance-minutes and p95 within
 * 15 %. (The whole pipeline, functions included, runs in `npm run bench -- scaling-live`, in real time.)
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointAsyncCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { AutoScalingService } from '../../../local/autoscaling/autoscaling-service';
import { defaultSimulationConfig } from '../../../local/cli/simulate';
import { ManualClock, type Clock } from '../../../local/clock';
import { CloudWatchService } from '../../../local/cloudwatch/cloudwatch-service';
import { EdgeServer } from '../../../local/edge/server';
import type { TopicPort } from '../../../local/ports';
import { SageMakerService } from '../../../local/sagemaker/sagemaker-service';
import { simulate } from '../../../local/simulate/engine';
import { loadPolicy } from '../../../local/simulate/policies';
import { Prng } from '../../../local/simulate/prng';
import { integrateTimeline, percentile } from '../../../local/simulate/results';
import { publishUtilization } from '../../../tasks/publish-utilization/publish-utilization';
import { ARRIVALS_METRIC, imagegenTopology, METRIC_NAMESPACE } from '../../../topology/imagegen-topology';
import { MemoryObjects } from '../sagemaker/harness';

jest.setTimeout(120_000);

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const MINUTE = 60_000;
const INFERENCE_MS = 6000;
const STARTUP_SECONDS = 60;
/** The autoscaler and the publisher run this far into each minute. */
const OFFSET_SECONDS = 30;
const TAIL_SECONDS = 240;
const spec = imagegenTopology().endpoints[0]!;
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** A model container that answers each `/invocations` exactly INFERENCE_MS of clock time after it arrived. */
async function pacedModel(clock: Clock): Promise<{ url: string; pending: () => number; close: () => Promise<void> }> {
  let pending = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/ping') return void res.end('{}');
      pending++;
      clock.schedule(INFERENCE_MS, () => {
        pending--;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"generated_images":[]}');
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    pending: () => pending,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Records when each inference's result notification went out, by inference id. */
class TimedTopics implements TopicPort {
  readonly finished = new Map<string, number>();
  constructor(private readonly clock: Clock) {}
  async publish(_topicArn: string, message: string): Promise<{ messageId: string }> {
    const parsed = JSON.parse(message) as { eventName?: string; inferenceId?: string };
    if (parsed.eventName === 'InferenceResult' && parsed.inferenceId) this.finished.set(parsed.inferenceId, this.clock.now());
    return { messageId: String(this.finished.size) };
  }
}

async function settle(until: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!until()) {
    if (Date.now() > deadline) throw new Error('the endpoint did not settle');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('simulator ⇔ the local control plane', () => {
  it('predicts instance-minutes and p95 within 15 % on a short rise that needs more instances', async () => {
    const rng = new Prng(7);
    // Quiet, 4 minutes at twice what one instance serves (12 × 1/6 s = 2/s), quiet again.
    const trace = [...Array.from({ length: 60 }, () => rng.poisson(0.5)), ...Array.from({ length: 240 }, () => rng.poisson(4)), ...Array.from({ length: 60 }, () => rng.poisson(0.5))];
    const T0 = Date.parse('2026-03-02T00:00:00Z');
    const clock = new ManualClock(T0 - MINUTE + OFFSET_SECONDS * 1000);
    const model = await pacedModel(clock);
    const objects = new MemoryObjects();
    await objects.putObject('imagegen-images', 'inputs/x.json', Buffer.from('{"inputs":"a lighthouse"}'), 'application/json');
    const topics = new TimedTopics(clock);
    const cloudwatch = new CloudWatchService({ clock });
    const sagemaker = new SageMakerService({
      region: REGION,
      account: ACCOUNT,
      clock,
      objects,
      topics,
      metrics: cloudwatch,
      endpoints: [
        {
          name: spec.name,
          variantName: spec.variantName,
          modelUrl: model.url,
          initialInstanceCount: 1,
          maxConcurrentInvocationsPerInstance: spec.maxConcurrentInvocationsPerInstance,
          instanceStartupSeconds: STARTUP_SECONDS,
          output: { bucket: 'imagegen-images', prefix: 'async-output/' },
          failure: { bucket: 'imagegen-images', prefix: 'async-failures/' },
          successTopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:done`,
          errorTopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:failed`,
        },
      ],
    });
    const autoscaling = new AutoScalingService({ clock, region: REGION, account: ACCOUNT, endpoints: [{ name: spec.name, variantName: spec.variantName, scaling: spec.scaling }], metrics: cloudwatch, capacity: sagemaker });
    const edge = new EdgeServer({ services: [cloudwatch.handler, sagemaker.handler], port: 0, region: REGION });
    const url = await edge.listen();
    const clients = { cloudwatch: new CloudWatchClient({ endpoint: url, region: REGION, credentials }), sagemaker: new SageMakerClient({ endpoint: url, region: REGION, credentials }) };
    const runtime = new SageMakerRuntimeClient({ endpoint: url, region: REGION, credentials });
    const publishing: Promise<unknown>[] = [];
    try {
      sagemaker.start();
      // Both start now, OFFSET_SECONDS into a minute, and run every minute from here, as the cloud's schedule and autoscaler do.
      autoscaling.start();
      const publish = () => {
        const now = new Date(clock.now());
        const config = { endpointName: spec.name, variantName: spec.variantName, namespace: METRIC_NAMESPACE, metricName: 'UtilizationRate', arrivalsMetric: ARRIVALS_METRIC, concurrencyPerInstance: spec.maxConcurrentInvocationsPerInstance, inferenceSeconds: INFERENCE_MS / 1000, periodSeconds: 60, drainSeconds: spec.scaling.targetTracking.drainSeconds, forecast: spec.scaling.targetTracking.forecast };
        publishing.push(publishUtilization(config, { ...clients, now: () => now }));
        clock.schedule(MINUTE, publish);
      };
      clock.schedule(MINUTE, publish);
      await clock.advance(MINUTE - OFFSET_SECONDS * 1000);
      expect(clock.now()).toBe(T0);

      const sent = new Map<string, number>();
      let instanceSeconds = 0;
      const stats = () => sagemaker.stats(spec.name);
      for (let second = 0; second < trace.length + TAIL_SECONDS; second++) {
        const { inService, pending } = stats().instances;
        instanceSeconds += inService + pending;
        for (let i = 0; i < (trace[second] ?? 0); i++) {
          const out = await runtime.send(new InvokeEndpointAsyncCommand({ EndpointName: spec.name, InputLocation: 's3://imagegen-images/inputs/x.json' }));
          sent.set(out.InferenceId!, clock.now());
          // What Resolve emits once the endpoint accepted an inference it started.
          cloudwatch.putMetricData(METRIC_NAMESPACE, [{ metricName: ARRIVALS_METRIC, dimensions: { EndpointName: spec.name }, value: 1, unit: 'Count', timestamp: clock.now() }]);
        }
        await clock.advance(1000);
        await settle(() => stats().inFlight === model.pending());
        await Promise.all(publishing.splice(0));
      }

      const latencies = Float64Array.from([...sent].map(([id, at]) => ((topics.finished.get(id) ?? Infinity) - at) / 1000)).sort();
      const live = { instanceMinutes: instanceSeconds / 60, p95: percentile(latencies, 0.95)! };
      const sim = simulate(
        trace,
        loadPolicy('imagegen'),
        defaultSimulationConfig({
          secondsPerImage: INFERENCE_MS / 1000,
          inferenceSpread: 0,
          startupSeconds: STARTUP_SECONDS,
          concurrencyPerInstance: spec.maxConcurrentInvocationsPerInstance,
          initialInstances: 1,
          minCapacity: spec.scaling.minCapacity,
          maxCapacity: spec.scaling.maxCapacity,
          evaluationOffsetSeconds: OFFSET_SECONDS,
          warmHistory: false,
        }),
      );
      const end = trace.length + TAIL_SECONDS;
      const simulated = { instanceMinutes: integrateTimeline(sim.timeline.filter((p) => p.at < end), end) / 60, p95: sim.p95_s! };
      expect(sent.size).toBe(sim.requests);
      expect(topics.finished.size).toBe(sent.size);
      // The rise needs more than the one instance: both sides scale out.
      expect(autoscaling.scalingActivities().length).toBeGreaterThan(0);
      expect(sim.decisions.length).toBeGreaterThan(0);
      // The numbers travel with the verdict, so a failure shows both sides.
      const within = (ratio: number) => ratio >= 0.85 && ratio <= 1.15;
      expect({ instanceMinutes: within(live.instanceMinutes / simulated.instanceMinutes), p95: within(live.p95 / simulated.p95), live, simulated }).toMatchObject({ instanceMinutes: true, p95: true });
    } finally {
      autoscaling.close();
      await sagemaker.close();
      runtime.destroy();
      clients.cloudwatch.destroy();
      clients.sagemaker.destroy();
      await edge.close();
      await model.close();
    }
  });
});
