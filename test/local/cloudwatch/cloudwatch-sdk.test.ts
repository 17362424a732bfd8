import {
  CloudWatchClient,
  GetMetricDataCommand,
  GetMetricStatisticsCommand,
  ListMetricsCommand,
  type ListMetricsCommandInput,
  PutMetricDataCommand,
  type MetricDatum,
} from '@aws-sdk/client-cloudwatch';
import { ManualClock } from '../../../local/clock';
import { CloudWatchService } from '../../../local/cloudwatch/cloudwatch-service';
import { EdgeServer } from '../../../local/edge/server';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const minute = 60_000;
const at = (minutes: number): Date => new Date(T0 + minutes * minute);
const endpoint = [{ Name: 'EndpointName', Value: 'imagegen-sdxl' }];

describe('CloudWatch emulator through the edge (AWS SDK v3, JSON 1.0 query-compatible)', () => {
  let clock: ManualClock;
  let service: CloudWatchService;
  let edge: EdgeServer;
  let client: CloudWatchClient;

  beforeEach(async () => {
    clock = new ManualClock(T0 + 60 * minute);
    service = new CloudWatchService({ clock });
    edge = new EdgeServer({ services: [service.handler], port: 0, region: 'us-east-1' });
    const url = await edge.listen();
    client = new CloudWatchClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  });

  afterEach(async () => {
    client.destroy();
    await edge.close();
  });

  async function put(namespace: string, data: MetricDatum[]): Promise<void> {
    await client.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: data }));
  }

  it('aggregates several statistics over different periods', async () => {
    await put('ImageGen', [
      { MetricName: 'Latency', Dimensions: endpoint, Timestamp: at(0), Value: 10, Unit: 'Milliseconds' },
      { MetricName: 'Latency', Dimensions: endpoint, Timestamp: new Date(T0 + 30_000), Value: 30, Unit: 'Milliseconds' },
      { MetricName: 'Latency', Dimensions: endpoint, Timestamp: at(1), Values: [1, 2, 100], Counts: [1, 1, 2], Unit: 'Milliseconds' },
      { MetricName: 'Latency', Dimensions: endpoint, Timestamp: at(5), Value: 7, Unit: 'Milliseconds' },
    ]);
    const metric = { Namespace: 'ImageGen', MetricName: 'Latency', Dimensions: endpoint };
    const out = await client.send(
      new GetMetricDataCommand({
        StartTime: at(0),
        EndTime: at(10),
        ScanBy: 'TimestampAscending',
        MetricDataQueries: [
          { Id: 'avg', MetricStat: { Metric: metric, Period: 60, Stat: 'Average' } },
          { Id: 'sum5', MetricStat: { Metric: metric, Period: 300, Stat: 'Sum' } },
          { Id: 'count', MetricStat: { Metric: metric, Period: 60, Stat: 'SampleCount' } },
          { Id: 'lo', MetricStat: { Metric: metric, Period: 600, Stat: 'Minimum' } },
          { Id: 'hi', MetricStat: { Metric: metric, Period: 600, Stat: 'Maximum' }, Label: 'peak' },
          { Id: 'p50', MetricStat: { Metric: metric, Period: 600, Stat: 'p50' } },
        ],
      }),
    );
    const byId = Object.fromEntries((out.MetricDataResults ?? []).map((r) => [r.Id, r]));
    expect(byId['avg']?.Timestamps).toEqual([at(0), at(1), at(5)]);
    expect(byId['avg']?.Values).toEqual([20, 203 / 4, 7]);
    expect(byId['avg']?.Label).toBe('Latency');
    expect(byId['avg']?.StatusCode).toBe('Complete');
    expect(byId['sum5']?.Timestamps).toEqual([at(0), at(5)]);
    expect(byId['sum5']?.Values).toEqual([243, 7]);
    expect(byId['count']?.Values).toEqual([2, 4, 1]);
    expect(byId['lo']?.Values).toEqual([1]);
    expect(byId['hi']).toMatchObject({ Label: 'peak', Values: [100] });
    // 7 samples (1, 2, 7, 10, 30, 100, 100): the 4th is the nearest-rank median.
    expect(byId['p50']?.Values).toEqual([10]);
  });

  it('treats StartTime as inclusive, EndTime as exclusive, and scans newest first by default', async () => {
    await put('ImageGen', [0, 1, 2, 3].map((m) => ({ MetricName: 'Backlog', Dimensions: endpoint, Timestamp: at(m), Value: m })));
    const out = await client.send(
      new GetMetricDataCommand({
        StartTime: at(1),
        EndTime: at(3),
        MetricDataQueries: [{ Id: 'm1', MetricStat: { Metric: { Namespace: 'ImageGen', MetricName: 'Backlog', Dimensions: endpoint }, Period: 60, Stat: 'Maximum' } }],
      }),
    );
    expect(out.MetricDataResults?.[0]?.Timestamps).toEqual([at(2), at(1)]);
    expect(out.MetricDataResults?.[0]?.Values).toEqual([2, 1]);
  });

  it('evaluates the utilization formula with IF and FILL, returning only ReturnData queries', async () => {
    // m1 = instances, m2 = images processed per minute; minute 2 has no instances, minute 3 no data at all.
    service.putMetricData('AWS/SageMaker', [
      { metricName: 'Instances', dimensions: { EndpointName: 'imagegen-sdxl' }, value: 2, timestamp: T0 },
      { metricName: 'Instances', dimensions: { EndpointName: 'imagegen-sdxl' }, value: 1, timestamp: T0 + minute },
      { metricName: 'Instances', dimensions: { EndpointName: 'imagegen-sdxl' }, value: 0, timestamp: T0 + 2 * minute },
      { metricName: 'Processed', dimensions: { EndpointName: 'imagegen-sdxl' }, value: 72, timestamp: T0 },
      { metricName: 'Processed', dimensions: { EndpointName: 'imagegen-sdxl' }, value: 18, timestamp: T0 + minute },
      { metricName: 'Processed', dimensions: { EndpointName: 'imagegen-sdxl' }, value: 0, timestamp: T0 + 2 * minute },
    ]);
    const stat = (name: string) => ({ Metric: { Namespace: 'AWS/SageMaker', MetricName: name, Dimensions: endpoint }, Period: 60, Stat: 'Sum' });
    const out = await client.send(
      new GetMetricDataCommand({
        StartTime: at(0),
        EndTime: at(4),
        ScanBy: 'TimestampAscending',
        MetricDataQueries: [
          { Id: 'm1', MetricStat: stat('Instances'), ReturnData: false },
          { Id: 'm2', MetricStat: stat('Processed'), ReturnData: false },
          { Id: 'util', Expression: 'IF(m1 != 0, m2 / (m1 * 60 / 10 * 12), 0)', ReturnData: false },
          { Id: 'e1', Expression: 'FILL(util, 0)', Label: 'UtilizationRate' },
          { Id: 'e2', Expression: 'FILL(m1, REPEAT) + 1' },
        ],
      }),
    );
    expect(out.MetricDataResults?.map((r) => r.Id)).toEqual(['e1', 'e2']);
    const [e1, e2] = out.MetricDataResults ?? [];
    expect(e1).toMatchObject({ Label: 'UtilizationRate', Timestamps: [at(0), at(1), at(2), at(3)], Values: [0.5, 0.25, 0, 0] });
    expect(e2?.Values).toEqual([3, 2, 1, 1]);
    expect(e2?.Label).toBe('e2');
  });

  it('computes MAX/MIN/SUM/AVG over a list of series and over one series', async () => {
    await put('ImageGen', [
      { MetricName: 'A', Timestamp: at(0), Value: 1 },
      { MetricName: 'A', Timestamp: at(1), Value: 5 },
      { MetricName: 'B', Timestamp: at(0), Value: 3 },
      { MetricName: 'B', Timestamp: at(1), Value: -2 },
    ]);
    const stat = (name: string) => ({ Metric: { Namespace: 'ImageGen', MetricName: name }, Period: 60, Stat: 'Average' });
    const out = await client.send(
      new GetMetricDataCommand({
        StartTime: at(0),
        EndTime: at(2),
        ScanBy: 'TimestampAscending',
        MetricDataQueries: [
          { Id: 'a', MetricStat: stat('A'), ReturnData: false },
          { Id: 'b', MetricStat: stat('B'), ReturnData: false },
          { Id: 'mx', Expression: 'MAX([a, b])' },
          { Id: 'mn', Expression: 'MIN([a, b])' },
          { Id: 'sm', Expression: 'SUM(METRICS())' },
          { Id: 'av', Expression: 'AVG([a, b])' },
          { Id: 'rel', Expression: 'a - MAX(a) + ABS(b)' },
          { Id: 'cmp', Expression: 'a > b AND NOT b < 0 || a == 5' },
        ],
      }),
    );
    const values = Object.fromEntries((out.MetricDataResults ?? []).map((r) => [r.Id, r.Values]));
    expect(values).toEqual({ mx: [3, 5], mn: [1, -2], sm: [4, 3], av: [2, 1.5], rel: [-1, 2], cmp: [0, 1] });
  });

  it('answers GetMetricStatistics with basic and extended statistics', async () => {
    await put('ImageGen', [
      { MetricName: 'Size', Timestamp: at(0), Values: [1, 2, 3, 4], Unit: 'Bytes' },
      { MetricName: 'Size', Timestamp: at(3), StatisticValues: { SampleCount: 2, Sum: 10, Minimum: 4, Maximum: 6 }, Unit: 'Bytes' },
    ]);
    const out = await client.send(
      new GetMetricStatisticsCommand({
        Namespace: 'ImageGen',
        MetricName: 'Size',
        StartTime: at(0),
        EndTime: at(10),
        Period: 300,
        Statistics: ['Average', 'SampleCount', 'Maximum'],
        ExtendedStatistics: ['p50'],
      }),
    );
    expect(out.Label).toBe('Size');
    expect(out.Datapoints).toEqual([{ Timestamp: at(0), Average: 20 / 6, SampleCount: 6, Maximum: 6, Unit: 'Bytes', ExtendedStatistics: {} }]);
  });

  it('lists metrics filtered by namespace, name and dimensions', async () => {
    await put('ImageGen', [
      { MetricName: 'UtilizationRate', Dimensions: endpoint, Value: 1 },
      { MetricName: 'UtilizationRate', Dimensions: [{ Name: 'EndpointName', Value: 'other' }], Value: 1 },
      { MetricName: 'Backlog', Dimensions: [...endpoint, { Name: 'VariantName', Value: 'AllTraffic' }], Value: 1 },
    ]);
    await put('Other', [{ MetricName: 'UtilizationRate', Value: 1 }]);
    const names = async (input: ListMetricsCommandInput) =>
      ((await client.send(new ListMetricsCommand(input))).Metrics ?? []).map((m) => `${m.Namespace}/${m.MetricName}/${(m.Dimensions ?? []).map((d) => `${d.Name}=${d.Value}`).join(',')}`);
    expect(await names({ Namespace: 'ImageGen' })).toEqual([
      'ImageGen/Backlog/EndpointName=imagegen-sdxl,VariantName=AllTraffic',
      'ImageGen/UtilizationRate/EndpointName=imagegen-sdxl',
      'ImageGen/UtilizationRate/EndpointName=other',
    ]);
    expect(await names({ MetricName: 'UtilizationRate', Dimensions: [{ Name: 'EndpointName' }] })).toHaveLength(2);
    expect(await names({ Dimensions: [{ Name: 'EndpointName', Value: 'imagegen-sdxl' }] })).toHaveLength(2);
    expect(await names({ Dimensions: [{ Name: 'VariantName' }] })).toEqual(['ImageGen/Backlog/EndpointName=imagegen-sdxl,VariantName=AllTraffic']);
    expect(await names({ Namespace: 'Other' })).toEqual(['Other/UtilizationRate/']);
  });

  describe('errors', () => {
    async function errorOf(promise: Promise<unknown>): Promise<{ name: string; Code?: string; Type?: string; message: string; status?: number }> {
      try {
        await promise;
      } catch (error) {
        const e = error as { name: string; Code?: string; Type?: string; message: string; $metadata?: { httpStatusCode?: number } };
        const result: { name: string; Code?: string; Type?: string; message: string; status?: number } = { name: e.name, message: e.message };
        if (e.Code !== undefined) result.Code = e.Code;
        if (e.Type !== undefined) result.Type = e.Type;
        if (e.$metadata?.httpStatusCode !== undefined) result.status = e.$metadata.httpStatusCode;
        return result;
      }
      throw new Error('expected the call to fail');
    }

    it.each<[string, MetricDatum, RegExp]>([
      ['NaN', { MetricName: 'X', Value: NaN }, /MetricData\.member\.1\.Value/],
      ['Infinity', { MetricName: 'X', Value: Infinity }, /MetricData\.member\.1\.Value/],
      ['a huge value', { MetricName: 'X', Value: 2 ** 361 }, /2\^360/],
      ['StorageResolution 30', { MetricName: 'X', Value: 1, StorageResolution: 30 }, /StorageResolution/],
      ['a timestamp three weeks old', { MetricName: 'X', Value: 1, Timestamp: new Date(T0 - 21 * 24 * 3600_000) }, /two weeks in the past/],
      ['a timestamp three hours ahead', { MetricName: 'X', Value: 1, Timestamp: new Date(T0 + 4 * 3600_000) }, /two hours in the future/],
      ['151 values', { MetricName: 'X', Values: Array.from({ length: 151 }, (_, i) => i) }, /Values must not have a size greater than 150/],
      ['31 dimensions', { MetricName: 'X', Value: 1, Dimensions: Array.from({ length: 31 }, (_, i) => ({ Name: `d${i}`, Value: 'v' })) }, /Dimensions must not have a size greater than 30/],
      ['an unknown unit', { MetricName: 'X', Value: 1, Unit: 'Furlongs' as never }, /Unit/],
    ])('rejects %s with InvalidParameterValue naming the field', async (_case, datum, message) => {
      const error = await errorOf(put('ImageGen', [datum]));
      expect(error).toMatchObject({ name: 'InvalidParameterValueException', Code: 'InvalidParameterValue', Type: 'Sender', status: 400 });
      expect(error.message).toMatch(message);
    });

    it('rejects more than 1000 data and bad namespaces', async () => {
      const tooMany = Array.from({ length: 1001 }, () => ({ MetricName: 'X', Value: 1 }));
      expect((await errorOf(put('ImageGen', tooMany))).message).toMatch(/MetricData must not have a size greater than 1000/);
      expect((await errorOf(put(':bad', [{ MetricName: 'X', Value: 1 }]))).message).toMatch(/Namespace/);
      expect((await errorOf(put('x'.repeat(256), [{ MetricName: 'X', Value: 1 }]))).message).toMatch(/1 to 255/);
      expect(await errorOf(put('AWS/SageMaker', [{ MetricName: 'X', Value: 1 }]))).toMatchObject({ Code: 'InvalidParameterValue' });
    });

    it('reports a missing parameter as MissingParameter', async () => {
      const error = await errorOf(put('ImageGen', [{ Value: 1 } as MetricDatum]));
      expect(error).toMatchObject({ name: 'MissingRequiredParameterException', Code: 'MissingParameter' });
      expect(error.message).toBe('The parameter MetricData.member.1.MetricName is required.');
    });

    it('rejects Value together with Values as InvalidParameterCombination', async () => {
      const error = await errorOf(put('ImageGen', [{ MetricName: 'X', Value: 1, Values: [1] }]));
      expect(error).toMatchObject({ name: 'InvalidParameterCombinationException', Code: 'InvalidParameterCombination' });
    });

    it('rejects bad GetMetricData queries', async () => {
      const metricStat = { Metric: { Namespace: 'ImageGen', MetricName: 'X' }, Period: 60, Stat: 'Average' };
      const get = (queries: object[], start = at(0), end = at(5)) =>
        client.send(new GetMetricDataCommand({ StartTime: start, EndTime: end, MetricDataQueries: queries as never }));
      expect((await errorOf(get([{ Id: 'M1', MetricStat: metricStat }]))).message).toMatch(/MetricDataQueries\.member\.1\.Id/);
      expect((await errorOf(get([{ Id: 'm1', MetricStat: { ...metricStat, Stat: 'Median' } }]))).message).toMatch(/MetricStat\.Stat/);
      expect((await errorOf(get([{ Id: 'm1', MetricStat: { ...metricStat, Period: 45 } }]))).message).toMatch(/MetricStat\.Period/);
      expect((await errorOf(get([{ Id: 'm1', MetricStat: metricStat }], at(5), at(5)))).message).toMatch(/StartTime/);
      expect((await errorOf(get(Array.from({ length: 501 }, (_, i) => ({ Id: `m${i}`, MetricStat: metricStat }))))).message).toMatch(/500/);
      expect(await errorOf(get([{ Id: 'e1', Expression: 'm9 * 2' }]))).toMatchObject({ name: 'ValidationException', Code: 'ValidationError' });
      expect((await errorOf(get([{ Id: 'e1', Expression: 'FILL(' }]))).message).toMatch(/Error in expression 'e1'/);
    });
  });
});
