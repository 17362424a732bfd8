import { ManualClock } from '../../../local/clock';
import { CloudWatchService } from '../../../local/cloudwatch/cloudwatch-service';
import { ALARM_EVALUATION_DELAY_SECONDS, AutoScalingService } from '../../../local/autoscaling/autoscaling-service';
import type { EndpointCapacityPort } from '../../../local/ports';
import { imagegenTopology } from '../../../topology/imagegen-topology';
import type { ScalingSpec } from '../../../topology/topology';

const MINUTE = 60_000;
const spec = imagegenTopology().endpoints[0]!;
/** The step scale-out policy out of reach, for tests of target tracking alone. */
const noStepOut: Partial<ScalingSpec> = { stepScaleOut: { ...spec.scaling.stepScaleOut, threshold: 1e6, steps: [{ utilizationAtLeast: 1e6, percentChange: 100 }] } };

/** Instances come into service after `startupMs`; desired vs current shows the Updating state. */
class FakeCapacity implements EndpointCapacityPort {
  current: number;
  desired: number;
  readonly calls: number[] = [];
  constructor(private readonly clock: ManualClock, initial: number, private readonly startupMs = 0) {
    this.current = initial;
    this.desired = initial;
  }
  getCapacity() {
    return { current: this.current, desired: this.desired };
  }
  setDesiredInstanceCount(_e: string, _v: string, desired: number) {
    this.calls.push(desired);
    this.desired = desired;
    if (desired < this.current || this.startupMs === 0) this.current = desired;
    else this.clock.schedule(this.startupMs, () => (this.current = this.desired));
  }
}

function setup(initial: number, scaling: Partial<ScalingSpec> = {}, startupMs = 0) {
  // Started the alarm delay before the whole minute, the autoscaler evaluates on whole minutes.
  const clock = new ManualClock(Date.parse('2026-03-02T00:00:00Z') - ALARM_EVALUATION_DELAY_SECONDS * 1000);
  const cloudwatch = new CloudWatchService({ clock });
  const capacity = new FakeCapacity(clock, initial, startupMs);
  const lines: string[] = [];
  const service = new AutoScalingService({
    clock,
    region: 'us-east-1',
    account: '000000000000',
    endpoints: [{ name: spec.name, variantName: spec.variantName, scaling: { ...spec.scaling, ...scaling } }],
    metrics: cloudwatch,
    capacity,
    log: (line) => lines.push(line),
  });
  service.start();
  void clock.advance(ALARM_EVALUATION_DELAY_SECONDS * 1000);
  /**
   * Puts one datapoint per minute for `minutes` minutes, then advances past each: utilization, the
   * endpoint's backlog (HasBacklogWithoutCapacity follows it while no instance serves), and one
   * CPUUtilization sample per in-service instance, as the emulated endpoint publishes them.
   */
  const run = async (minutes: number, utilization: number | undefined, load: { backlog?: number; instances?: number; instancesLandMinutesLate?: number } = {}) => {
    for (let i = 0; i < minutes; i++) {
      const t = clock.now() + 1000;
      const backlog = load.backlog ?? 0;
      const instances = load.instances ?? capacity.current;
      if (utilization !== undefined) cloudwatch.putMetricData('ImageGen', [{ metricName: 'UtilizationRate', dimensions: { EndpointName: spec.name }, value: utilization, timestamp: t }]);
      cloudwatch.putMetricData('AWS/SageMaker', [
        { metricName: 'HasBacklogWithoutCapacity', dimensions: { EndpointName: spec.name }, value: backlog > 0 && instances === 0 ? 1 : 0, timestamp: t },
        { metricName: 'ApproximateBacklogSize', dimensions: { EndpointName: spec.name }, value: backlog, timestamp: t },
      ]);
      if (load.instances !== undefined) {
        // A late sample lands now, stamped with the minute it describes, as SageMaker's do.
        const stamped = t - (load.instancesLandMinutesLate ?? 0) * MINUTE;
        const cpu = Array.from({ length: instances }, () => ({ metricName: 'CPUUtilization', dimensions: { EndpointName: spec.name, VariantName: spec.variantName }, value: 50, timestamp: stamped }));
        if (cpu.length > 0) cloudwatch.putMetricData('/aws/sagemaker/Endpoints', cpu);
      }
      await clock.advance(MINUTE);
    }
  };
  return { clock, capacity, service, lines, run, cloudwatch };
}

describe('AutoScalingService', () => {
  it('scales out to ceil(current × metric ÷ target) after 3 datapoints above the target', async () => {
    const { capacity, lines, run } = setup(2);
    await run(2, 1.5);
    expect(capacity.calls).toEqual([]);
    await run(2, 1.5);
    expect(capacity.calls).toEqual([4]); // ceil(2 × 1.5 / 0.8)
    expect(lines[0]).toMatch(/^autoscaling: imagegen-sdxl 2 → 4 \(UtilizationRate 1\.5 > 0\.8, 3\/3 datapoints\)$/);
  });

  it('scales out on the 3 most recent published datapoints while the latest minutes are not yet described, from the first minutes', async () => {
    const { clock, capacity, cloudwatch, run } = setup(1);
    const created = clock.now();
    await run(4, undefined);
    expect(capacity.calls).toEqual([]);
    // Published minutes after they landed, stamped with the minutes they describe: the two latest have none yet.
    for (const minute of [0, 1, 2]) cloudwatch.putMetricData('ImageGen', [{ metricName: 'UtilizationRate', dimensions: { EndpointName: spec.name }, value: 2, timestamp: created + minute * MINUTE + 1000 }]);
    await run(1, undefined);
    expect(capacity.calls).toEqual([3]); // ceil(1 × 2 / 0.8): the scale-in alarm's 15 are not needed
  });

  it('clamps a scale-out to the maximum', async () => {
    const { capacity, lines, run } = setup(3);
    await run(4, 10);
    expect(capacity.calls).toEqual([4]);
    expect(lines[0]).toContain('clamped to [0, 4]');
  });

  it('scales in only after 15 datapoints below 90 % of the target, and to zero on published idle minutes, never on missing ones', async () => {
    const { capacity, run } = setup(4);
    await run(14, 0.1);
    expect(capacity.calls).toEqual([]);
    await run(1, 0.1);
    expect(capacity.calls).toEqual([1]); // ceil(4 × 0.1 / 0.8)
    // No utilization published (the minutes not yet described): no datapoint, not an idle one.
    await run(25, undefined);
    expect(capacity.calls).toEqual([1]);
    await run(15, 0);
    expect(capacity.calls).toEqual([1, 0]);
  });

  it('does not scale in while the scale-out cooldown runs, nor twice within the scale-in cooldown', async () => {
    const { capacity, run, service } = setup(1, { ...noStepOut, targetTracking: { ...spec.scaling.targetTracking, scaleOutCooldownSeconds: 1200, scaleInCooldownSeconds: 600 } });
    await run(4, 3);
    expect(capacity.calls).toEqual([4]);
    await run(16, 0.05); // low alarm holds, but the 20-minute scale-out cooldown blocks scale-in
    expect(capacity.calls).toEqual([4]);
    await run(3, 0.3);
    expect(capacity.calls).toEqual([4, 2]);
    await run(5, 0);
    expect(capacity.calls).toEqual([4, 2]); // 600 s scale-in cooldown
    await run(6, 0);
    expect(capacity.calls).toEqual([4, 2, 0]);
    expect(service.scalingActivities()).toHaveLength(3);
  });

  it('scales out of zero by the step the backlog reaches after one minute with no instance, which target tracking cannot', async () => {
    const { capacity, lines, run } = setup(0, { maxCapacity: 300 });
    await run(1, 5, { backlog: 3000 });
    // Backlog 3000 ≥ 2500: the +42 step (bounds from the topology, see imagegen-topology.ts).
    expect(capacity.calls).toEqual([42]);
    expect(lines[0]).toBe('autoscaling: imagegen-sdxl 0 → 42 (backlog without capacity alarm 3000 ≥ 1, 1/1 datapoints: step +42)');
  });

  it('adds one instance for a handful of waiting requests, and nothing while instances serve the backlog', async () => {
    const { capacity, run } = setup(0, { maxCapacity: 300 });
    await run(1, 0.1, { backlog: 3 });
    expect(capacity.calls).toEqual([1]);
    await run(10, 0.1, { backlog: 3, instances: 1 });
    expect(capacity.calls).toEqual([1]); // HasBacklogWithoutCapacity is 0: IF(…) reads 0
  });

  it('within the step cooldown a larger breach adds only what its step exceeds the one that started it', async () => {
    const { capacity, run } = setup(0, { maxCapacity: 300 }, 5 * MINUTE);
    await run(1, 5, { backlog: 300 });
    expect(capacity.calls).toEqual([4]);
    // Still Updating for 5 minutes, then the backlog (now 6000) still has no instance behind it.
    await run(5, 5, { backlog: 6000, instances: 0 });
    expect(capacity.calls).toEqual([4, 84]); // base 0 + 84, not 4 + 84
    await run(1, 5, { backlog: 6000, instances: 0 });
    expect(capacity.calls).toEqual([4, 84]); // same step again within the cooldown adds nothing
  });

  it('scales out by percentage steps on 2 datapoints far above target, the larger picking the step, where target tracking waits for 3', async () => {
    const { capacity, lines, run } = setup(4, { maxCapacity: 300 }, 5 * MINUTE);
    await run(1, 5, { instances: 4 });
    expect(capacity.calls).toEqual([]); // one datapoint is not enough
    await run(1, 10, { instances: 4 });
    // Maximum of 5 and 10: 10 ≥ 9.6 (12 × the 0.8 target) and < 12.8: +1100 % → 48 instances (their
    // average, 7.5, would have picked +700 %).
    expect(capacity.calls).toEqual([48]);
    expect(lines[0]).toBe('autoscaling: imagegen-sdxl 4 → 48 (high utilization alarm 10 ≥ 2.4, 2/2 datapoints: +1100 %)');
    await run(5, 10, { instances: 4 }); // Updating: the 44 new instances start
    // Ready, still alarming on stale minutes: within the cooldown the same step adds nothing more,
    // but target tracking (3 datapoints of 10) asks ceil(48 × 10 ÷ 0.8) = 600 → clamped to 300.
    await run(1, 10, { instances: 48 });
    expect(capacity.calls).toEqual([48, 300]);
  });

  it('scales in by percentage steps after 3 minutes well below target, without waiting for target tracking’s 15', async () => {
    const { capacity, lines, run } = setup(100, { maxCapacity: 300 });
    await run(2, 0.1, { instances: 100 });
    expect(capacity.calls).toEqual([]);
    await run(1, 0.1, { instances: 100 });
    // 0.1 < 0.16 (20 % of the 0.8 target) and ≥ 0.08: keep 20 %.
    expect(capacity.calls).toEqual([20]);
    expect(lines[0]).toBe('autoscaling: imagegen-sdxl 100 → 20 (low utilization alarm 0.1 < 0.48, 3/3 datapoints: -80 %)');
    await run(3, 0.01, { instances: 20 });
    expect(capacity.calls).toEqual([20]); // 240 s cooldown
    await run(1, 0.01, { instances: 20 });
    expect(capacity.calls).toEqual([20, 2]);
  });

  it('scales in by steps when the instance count lands minutes after the utilization (FILL(instances, REPEAT))', async () => {
    const { capacity, lines, run } = setup(10, { maxCapacity: 10 });
    // The published utilization is on time; CPUUtilization lands 3 minutes late, as SageMaker's metrics do.
    await run(6, 0.1, { instances: 10, instancesLandMinutesLate: 3 });
    expect(capacity.calls).toEqual([2]);
    expect(lines[0]).toBe('autoscaling: imagegen-sdxl 10 → 2 (low utilization alarm 0.1 < 0.48, 3/3 datapoints: -80 %)');
  });

  it('within the scale-out cooldown scales out again only when larger than the scale-out that started it', async () => {
    const { capacity, lines, run } = setup(2, { ...noStepOut, maxCapacity: 50, targetTracking: { ...spec.scaling.targetTracking, scaleOutCooldownSeconds: 1200 } });
    await run(4, 1.5);
    expect(capacity.calls).toEqual([4]); // ceil(2 × 1.5 ÷ 0.8)
    await run(3, 1.5);
    // The cooldown's base is 2: ceil(2 × 1.5 ÷ 0.8) = 4 adds nothing (from 4 it would be 8).
    expect(capacity.calls).toEqual([4]);
    await run(3, 3);
    expect(capacity.calls).toEqual([4, 8]); // ceil(2 × 3 ÷ 0.8): larger, so it goes ahead within the cooldown
    expect(lines[1]).toBe('autoscaling: imagegen-sdxl 4 → 8 (UtilizationRate 3 > 0.8, 3/3 datapoints (larger than the scale-out in cooldown))');
  });

  it('leaves the last instance to target tracking: the step scale-in alarm does not breach below 2 instances', async () => {
    const { capacity, run } = setup(1);
    await run(14, 0.01, { instances: 1 });
    expect(capacity.calls).toEqual([]);
    await run(1, 0, { instances: 1 });
    expect(capacity.calls).toEqual([0]); // target tracking, after its 15 datapoints: ceil(1 × 0 ÷ 0.8)
  });

  it('waits while instances start (endpoint Updating) before the next scaling action', async () => {
    const { capacity, run } = setup(1, { ...noStepOut, maxCapacity: 100 }, 5 * MINUTE);
    await run(4, 3);
    expect(capacity.calls).toEqual([4]);
    await run(3, 3);
    expect(capacity.calls).toEqual([4]); // the 60 s cooldown is long over, but 3 instances are still starting
    await run(1, 3);
    expect(capacity.calls).toEqual([4, 15]); // ceil(4 × 3 ÷ 0.8)
  });

  it('runs scheduled actions in their time zone and clamps the count into the new bounds', async () => {
    const { capacity, run, lines } = setup(0, {
      scheduledActions: [
        { name: 'launch', schedule: 'cron(0 9 * * ? *)', timezone: 'Europe/Berlin', minCapacity: 3, maxCapacity: 4 },
        { name: 'night', schedule: 'cron(0 10 * * ? *)', timezone: 'Europe/Berlin', minCapacity: 0, maxCapacity: 0 },
      ],
    });
    await run(7 * 60 + 59, 0); // 07:59 UTC = 08:59 Berlin (winter)
    expect(capacity.calls).toEqual([]);
    await run(1, 0);
    expect(capacity.calls).toEqual([3]);
    expect(lines[0]).toContain('scheduled action launch');
    await run(60, 0);
    expect(capacity.desired).toBe(0);
  });

  it('answers the Application Auto Scaling API and updates min/max through RegisterScalableTarget', async () => {
    const { service, capacity } = setup(5);
    const call = async (op: string, body: unknown) => {
      const response = await service.handler.handle({
        method: 'POST', rawPath: '/', query: new URLSearchParams(), signingName: 'application-autoscaling', region: 'us-east-1',
        headers: { 'x-amz-target': `AnyScaleFrontendService.${op}`, 'content-type': 'application/x-amz-json-1.1' },
        body: Buffer.from(JSON.stringify(body)),
      });
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- wire JSON, asserted field by field
      return { status: response.status, body: JSON.parse(String(response.body)) as Record<string, any> };
    };
    const resourceId = `endpoint/${spec.name}/variant/${spec.variantName}`;
    const dim = 'sagemaker:variant:DesiredInstanceCount';
    const targets = await call('DescribeScalableTargets', { ServiceNamespace: 'sagemaker' });
    expect(targets.body['ScalableTargets'][0]).toMatchObject({ ResourceId: resourceId, MinCapacity: 0, MaxCapacity: 4 });
    const policies = await call('DescribeScalingPolicies', { ServiceNamespace: 'sagemaker', ResourceId: resourceId });
    expect(policies.body['ScalingPolicies'].map((p: { PolicyName: string; PolicyType: string }) => `${p.PolicyName} ${p.PolicyType}`)).toEqual([
      'imagegen-sdxl-utilization TargetTrackingScaling',
      'imagegen-sdxl-scale-from-zero StepScaling',
      'imagegen-sdxl-step-scale-out StepScaling',
      'imagegen-sdxl-step-scale-in StepScaling',
    ]);
    expect(policies.body['ScalingPolicies'][3].StepScalingPolicyConfiguration).toMatchObject({ AdjustmentType: 'PercentChangeInCapacity', StepAdjustments: [{ MetricIntervalUpperBound: 0, MetricIntervalLowerBound: -0.08, ScalingAdjustment: -40 }, {}, {}, {}, {}, { MetricIntervalUpperBound: -0.4, ScalingAdjustment: -90 }] });
    expect(policies.body['ScalingPolicies'][2].StepScalingPolicyConfiguration).toMatchObject({ MetricAggregationType: 'Maximum', Cooldown: 480 });
    // As the template deploys it: the published metric itself, no metric math.
    expect(policies.body['ScalingPolicies'][0].TargetTrackingScalingPolicyConfiguration.CustomizedMetricSpecification).toEqual({
      MetricName: 'UtilizationRate',
      Namespace: 'ImageGen',
      Dimensions: [{ Name: 'EndpointName', Value: spec.name }],
      Statistic: 'Average',
    });
    expect((await call('RegisterScalableTarget', { ServiceNamespace: 'sagemaker', ResourceId: resourceId, ScalableDimension: dim, MinCapacity: 1, MaxCapacity: 2 })).status).toBe(200);
    expect(capacity.desired).toBe(2);
    const bad = await call('RegisterScalableTarget', { ServiceNamespace: 'sagemaker', ResourceId: resourceId, ScalableDimension: dim, MinCapacity: 3, MaxCapacity: 2 });
    expect(bad.status).toBe(400);
    expect(bad.body['__type']).toBe('ValidationException');
    const missing = await call('PutScheduledAction', { ServiceNamespace: 'sagemaker', ResourceId: 'endpoint/nope/variant/AllTraffic', ScalableDimension: dim, ScheduledActionName: 'x', Schedule: 'rate(1 hour)' });
    expect(missing.body['__type']).toBe('ObjectNotFoundException');
    const badCron = await call('PutScheduledAction', { ServiceNamespace: 'sagemaker', ResourceId: resourceId, ScalableDimension: dim, ScheduledActionName: 'x', Schedule: 'cron(0 9 * *)' });
    expect(badCron.body['message']).toMatch(/6 fields/);
    await call('PutScheduledAction', { ServiceNamespace: 'sagemaker', ResourceId: resourceId, ScalableDimension: dim, ScheduledActionName: 'warm', Schedule: 'at(2026-03-02T00:30:00)', Timezone: 'UTC', ScalableTargetAction: { MinCapacity: 2, MaxCapacity: 2 } });
    const scheduled = await call('DescribeScheduledActions', { ServiceNamespace: 'sagemaker' });
    expect(scheduled.body['ScheduledActions'][0]).toMatchObject({ ScheduledActionName: 'warm', ScalableTargetAction: { MinCapacity: 2, MaxCapacity: 2 } });
    const activities = await call('DescribeScalingActivities', { ServiceNamespace: 'sagemaker' });
    expect(activities.body['ScalingActivities'][0].Cause).toContain('RegisterScalableTarget');
  });
});
