import { XMLParser } from 'fast-xml-parser';
import { ManualClock } from '../../../local/clock';
import { CloudWatchService } from '../../../local/cloudwatch/cloudwatch-service';
import { EdgeServer } from '../../../local/edge/server';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const AUTHORIZATION =
  'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/monitoring/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=0000';
const parser = new XMLParser({ ignoreAttributes: false, parseTagValue: false, isArray: (name) => name === 'member' });

describe('CloudWatch emulator over the AWS Query protocol (AWS CLI 2.9 wire format)', () => {
  let clock: ManualClock;
  let edge: EdgeServer;
  let url: string;

  beforeEach(async () => {
    clock = new ManualClock(T0 + 3600_000);
    edge = new EdgeServer({ services: [new CloudWatchService({ clock }).handler], port: 0, region: 'us-east-1' });
    url = await edge.listen();
  });

  afterEach(() => edge.close());

  async function call(params: Record<string, string>): Promise<{ status: number; contentType: string | null; xml: Record<string, unknown> }> {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', authorization: AUTHORIZATION, 'x-amz-date': '20260101T010000Z' },
      body: new URLSearchParams({ Version: '2010-08-01', ...params }).toString(),
    });
    return { status: response.status, contentType: response.headers.get('content-type'), xml: parser.parse(await response.text()) as Record<string, unknown> };
  }

  const datum = (n: number, minute: number, value: number): Record<string, string> => ({
    [`MetricData.member.${n}.MetricName`]: 'UtilizationRate',
    [`MetricData.member.${n}.Dimensions.member.1.Name`]: 'EndpointName',
    [`MetricData.member.${n}.Dimensions.member.1.Value`]: 'imagegen-sdxl',
    [`MetricData.member.${n}.Timestamp`]: new Date(T0 + minute * 60_000).toISOString().replace('.000Z', '.500000Z'),
    [`MetricData.member.${n}.Value`]: String(value),
    [`MetricData.member.${n}.Unit`]: 'None',
  });

  it('puts data and reads it back with GetMetricData, in the documented XML shapes', async () => {
    const put = await call({ Action: 'PutMetricData', Namespace: 'ImageGen', ...datum(1, 0, 0.5), ...datum(2, 1, 0.75) });
    expect(put.status).toBe(200);
    expect(put.contentType).toBe('text/xml');
    const putResponse = put.xml['PutMetricDataResponse'] as Record<string, unknown>;
    expect(putResponse['@_xmlns']).toBe('http://monitoring.amazonaws.com/doc/2010-08-01/');
    expect(putResponse['PutMetricDataResult']).toBeUndefined();
    expect((putResponse['ResponseMetadata'] as { RequestId: string }).RequestId).toMatch(/^[0-9a-f-]{36}$/);

    const get = await call({
      Action: 'GetMetricData',
      StartTime: '2026-01-01T00:00:00Z',
      EndTime: '2026-01-01T00:05:00Z',
      ScanBy: 'TimestampAscending',
      'MetricDataQueries.member.1.Id': 'm1',
      'MetricDataQueries.member.1.MetricStat.Metric.Namespace': 'ImageGen',
      'MetricDataQueries.member.1.MetricStat.Metric.MetricName': 'UtilizationRate',
      'MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name': 'EndpointName',
      'MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Value': 'imagegen-sdxl',
      'MetricDataQueries.member.1.MetricStat.Period': '60',
      'MetricDataQueries.member.1.MetricStat.Stat': 'Average',
      'MetricDataQueries.member.1.ReturnData': 'false',
      'MetricDataQueries.member.2.Id': 'e1',
      'MetricDataQueries.member.2.Expression': 'FILL(m1, 0) * 100',
      'MetricDataQueries.member.2.Label': 'percent',
    });
    expect(get.status).toBe(200);
    const result = (get.xml['GetMetricDataResponse'] as { GetMetricDataResult: { MetricDataResults: { member: unknown[] } } }).GetMetricDataResult;
    expect(result.MetricDataResults.member).toEqual([
      {
        Id: 'e1',
        Label: 'percent',
        Timestamps: { member: ['2026-01-01T00:00:00.000Z', '2026-01-01T00:01:00.000Z', '2026-01-01T00:02:00.000Z', '2026-01-01T00:03:00.000Z', '2026-01-01T00:04:00.000Z'] },
        Values: { member: ['50', '75', '0', '0', '0'] },
        StatusCode: 'Complete',
        Messages: '',
      },
    ]);
  });

  it('answers ListMetrics and GetMetricStatistics', async () => {
    await call({ Action: 'PutMetricData', Namespace: 'ImageGen', ...datum(1, 0, 2), ...datum(2, 0, 4) });
    const list = await call({ Action: 'ListMetrics', Namespace: 'ImageGen', 'Dimensions.member.1.Name': 'EndpointName' });
    const metrics = (list.xml['ListMetricsResponse'] as { ListMetricsResult: { Metrics: { member: unknown[] } } }).ListMetricsResult.Metrics.member;
    expect(metrics).toEqual([{ Namespace: 'ImageGen', MetricName: 'UtilizationRate', Dimensions: { member: [{ Name: 'EndpointName', Value: 'imagegen-sdxl' }] } }]);

    const stats = await call({
      Action: 'GetMetricStatistics',
      Namespace: 'ImageGen',
      MetricName: 'UtilizationRate',
      'Dimensions.member.1.Name': 'EndpointName',
      'Dimensions.member.1.Value': 'imagegen-sdxl',
      StartTime: '2026-01-01T00:00:00Z',
      EndTime: '2026-01-01T00:10:00Z',
      Period: '60',
      'Statistics.member.1': 'Average',
      'Statistics.member.2': 'Maximum',
      'ExtendedStatistics.member.1': 'p100',
    });
    const result = (stats.xml['GetMetricStatisticsResponse'] as { GetMetricStatisticsResult: { Label: string; Datapoints: { member: unknown[] } } }).GetMetricStatisticsResult;
    expect(result.Label).toBe('UtilizationRate');
    expect(result.Datapoints.member).toEqual([
      { Timestamp: '2026-01-01T00:00:00.000Z', Average: '3', Maximum: '4', ExtendedStatistics: { entry: { key: 'p100', value: '4' } }, Unit: 'None' },
    ]);
  });

  it('renders errors as an ErrorResponse with the Query code', async () => {
    const response = await call({ Action: 'PutMetricData', Namespace: 'ImageGen', ...datum(1, 0, 1), 'MetricData.member.1.Value': 'NaN' });
    expect(response.status).toBe(400);
    const error = (response.xml['ErrorResponse'] as { Error: Record<string, string>; RequestId: string }).Error;
    expect(error['Type']).toBe('Sender');
    expect(error['Code']).toBe('InvalidParameterValue');
    expect(error['Message']).toMatch(/MetricData\.member\.1\.Value/);

    const missing = await call({ Action: 'PutMetricData', 'MetricData.member.1.MetricName': 'X', 'MetricData.member.1.Value': '1' });
    expect((missing.xml['ErrorResponse'] as { Error: Record<string, string> }).Error['Code']).toBe('MissingParameter');

    const unknown = await call({ Action: 'PutMetricAlarm' });
    expect((unknown.xml['ErrorResponse'] as { Error: Record<string, string> }).Error['Code']).toBe('InvalidAction');
  });
});
