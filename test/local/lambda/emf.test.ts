import { extractEmf } from '../../../local/lambda/emf';

const TIMESTAMP = 1767225600000;

function document(overrides: Record<string, unknown> = {}, directive: Record<string, unknown> = {}): string {
  return JSON.stringify({
    _aws: {
      Timestamp: TIMESTAMP,
      CloudWatchMetrics: [{ Namespace: 'ImageGen', Dimensions: [['EndpointName']], Metrics: [{ Name: 'UtilizationRate', Unit: 'Percent' }], ...directive }],
    },
    EndpointName: 'imagegen-sdxl',
    UtilizationRate: 75,
    ...overrides,
  });
}

describe('extractEmf', () => {
  it('ignores plain text and ordinary JSON log lines', () => {
    expect(extractEmf('START RequestId: 1 Version: $LATEST')).toBeUndefined();
    expect(extractEmf('{"level":"INFO","message":"hello"}')).toBeUndefined();
    expect(extractEmf('{"_aws": not json')).toBeUndefined();
  });

  it('turns one directive into data points with dimensions, unit and the document timestamp', () => {
    expect(extractEmf(document())).toEqual({
      problems: [],
      metrics: [
        {
          namespace: 'ImageGen',
          data: [{ metricName: 'UtilizationRate', dimensions: { EndpointName: 'imagegen-sdxl' }, value: 75, unit: 'Percent', timestamp: TIMESTAMP }],
        },
      ],
    });
  });

  it('publishes every metric once per dimension set and once per value of an array', () => {
    const result = extractEmf(document({ Stage: 'local', UtilizationRate: [1, 2] }, { Dimensions: [['EndpointName'], ['EndpointName', 'Stage']] }));
    expect(result?.metrics[0]?.data.map((d) => [d.dimensions, d.value])).toEqual([
      [{ EndpointName: 'imagegen-sdxl' }, 1],
      [{ EndpointName: 'imagegen-sdxl' }, 2],
      [{ EndpointName: 'imagegen-sdxl', Stage: 'local' }, 1],
      [{ EndpointName: 'imagegen-sdxl', Stage: 'local' }, 2],
    ]);
  });

  it('publishes without dimensions when the directive has no dimension sets', () => {
    const result = extractEmf(document({}, { Dimensions: [] }));
    expect(result?.metrics[0]?.data[0]?.dimensions).toEqual({});
  });

  it('skips a dimension set whose member is missing and says which', () => {
    const result = extractEmf(document({}, { Dimensions: [['EndpointName'], ['Variant']] }));
    expect(result?.metrics[0]?.data).toHaveLength(1);
    expect(result?.problems).toEqual(['_aws.CloudWatchMetrics[0]: dimension Variant has no string value on the root']);
  });

  it('skips a metric without a numeric value and reports the bad document fields', () => {
    expect(extractEmf(document({ UtilizationRate: 'high' }))).toEqual({
      metrics: [],
      problems: ['_aws.CloudWatchMetrics[0]: metric UtilizationRate needs a number or 1-100 numbers on the root'],
    });
    expect(extractEmf(document({ _aws: { CloudWatchMetrics: [] } }))?.problems).toEqual(['_aws.Timestamp must be a number of epoch milliseconds']);
    expect(extractEmf(document({}, { Namespace: '' }))?.problems).toEqual(['_aws.CloudWatchMetrics[0].Namespace must be a string of 1-255 characters']);
  });
});
