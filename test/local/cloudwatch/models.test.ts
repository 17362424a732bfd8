import { ManualClock } from '../../../local/clock';
import { CloudWatchService } from '../../../local/cloudwatch/cloudwatch-service';
import { getMetricData } from '../../../local/cloudwatch/get-metric-data';
import { Metrics, statisticValue, type StoredPoint } from '../../../local/cloudwatch/models';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const M = 60_000;
const identity = { namespace: 'ImageGen', metricName: 'Latency', dimensions: [{ Name: 'b', Value: '2' }, { Name: 'a', Value: '1' }] };
const point = (t: number, values: number[], extra: Partial<StoredPoint> = {}): StoredPoint => ({ t, unit: 'Milliseconds', resolution: 60, values, ...extra });

describe('Metrics', () => {
  it('treats a dimension set as unordered', () => {
    const metrics = new Metrics();
    metrics.add(identity, point(T0, [1]));
    expect(metrics.get('ImageGen', 'Latency', [{ Name: 'a', Value: '1' }, { Name: 'b', Value: '2' }])?.points).toHaveLength(1);
  });

  it('aggregates points per period aligned to the epoch, whatever order they arrived in', () => {
    const metrics = new Metrics();
    metrics.add(identity, point(T0 + M + 5_000, [30]));
    metrics.add(identity, point(T0, [10, 20]));
    metrics.add(identity, point(T0 + 2 * M, [99], { unit: 'Seconds' }));
    const stored = metrics.get('ImageGen', 'Latency', identity.dimensions)!;
    const buckets = metrics.aggregate(stored, T0, T0 + 3 * M, 120, 'Milliseconds');
    expect([...buckets.keys()]).toEqual([T0]);
    const bucket = buckets.get(T0)!;
    expect(['SampleCount', 'Sum', 'Average', 'Minimum', 'Maximum', 'p50', 'p100'].map((s) => statisticValue(bucket, s))).toEqual([3, 60, 20, 10, 30, 20, 30]);
  });

  it('has no percentile once a statistic set contributed, and weighs values by their counts', () => {
    const metrics = new Metrics();
    metrics.add(identity, point(T0, [], { stats: { SampleCount: 2, Sum: 10, Minimum: 4, Maximum: 6 } }));
    metrics.add(identity, point(T0, [1, 100], { counts: [3, 1] }));
    const bucket = metrics.aggregate(metrics.get('ImageGen', 'Latency', identity.dimensions)!, T0, T0 + M, 60).get(T0)!;
    expect(statisticValue(bucket, 'SampleCount')).toBe(6);
    expect(statisticValue(bucket, 'Sum')).toBe(113);
    expect(statisticValue(bucket, 'p50')).toBeUndefined();
  });

  it('keeps standard resolution for 15 days and high resolution for 3 hours', () => {
    const metrics = new Metrics();
    metrics.add(identity, point(T0, [1]));
    metrics.add({ ...identity, metricName: 'Fast' }, point(T0, [1], { resolution: 1 }));
    expect(metrics.prune(T0 + 3 * 60 * M + 1)).toBe(true);
    expect(metrics.all().map((m) => m.metricName)).toEqual(['Latency']);
    metrics.prune(T0 + 15 * 24 * 60 * M + 1);
    expect(metrics.all()).toEqual([]);
  });
});

describe('getMetricData over the metrics', () => {
  it('names the missing member by its full path', () => {
    const metrics = new Metrics();
    expect(() => getMetricData(metrics, [{ Id: 'm1', MetricStat: { Metric: { MetricName: 'Latency' }, Period: 60, Stat: 'Sum' } }], T0, T0 + M, {})).toThrow(
      'The parameter MetricDataQueries.member.1.MetricStat.Metric.Namespace is required.',
    );
  });
});

describe('ListMetrics pagination', () => {
  it('pages by 500 and rejects a token it did not issue with InvalidNextToken', () => {
    const clock = new ManualClock(T0);
    const service = new CloudWatchService({ clock });
    for (let i = 0; i < 501; i++) service.putMetricData('Many', [{ metricName: `m${String(i).padStart(3, '0')}`, dimensions: {}, value: 1, timestamp: T0 }]);
    const first = service.listMetrics({ Namespace: 'Many' });
    expect(first.Metrics).toHaveLength(500);
    const second = service.listMetrics({ Namespace: 'Many', NextToken: first.NextToken! });
    expect(second).toEqual({ Metrics: [{ Namespace: 'Many', MetricName: 'm500', Dimensions: [] }] });
    expect(() => service.listMetrics({ NextToken: 'not-a-token' })).toThrow(expect.objectContaining({ code: 'InvalidNextToken' }));
  });
});
