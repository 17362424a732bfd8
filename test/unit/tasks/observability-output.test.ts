import { createObservability, MetricUnit, publishIfAny } from '../../../tasks/shared/observability';

interface Emf {
  service?: string;
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] };
}

describe("a task's logs and metric documents", () => {
  const saved = { level: process.env.POWERTOOLS_LOG_LEVEL, disabled: process.env.POWERTOOLS_METRICS_DISABLED };
  let lines: string[];
  let warnings: unknown[];
  beforeEach(() => {
    lines = [];
    warnings = [];
    for (const method of ['log', 'info', 'error'] as const) jest.spyOn(console, method).mockImplementation((...args: unknown[]) => void lines.push(String(args[0])));
    jest.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => void warnings.push(args[0]));
    // Powertools' dev mode (test/setup-env.ts) turns metrics off unless this says otherwise.
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  });
  afterEach(() => {
    process.env.POWERTOOLS_LOG_LEVEL = saved.level;
    if (saved.disabled === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
    else process.env.POWERTOOLS_METRICS_DISABLED = saved.disabled;
    jest.restoreAllMocks();
  });

  it('log lines carry the function as their service field, which the log queries filter on', () => {
    process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
    createObservability('imagegen-probe').logger.info('probe');
    expect(lines.map((line) => (JSON.parse(line) as { service?: string }).service)).toEqual(['imagegen-probe']);
  });

  it('service metrics carry the service dimension; scaling metrics only the dimensions the task adds, both in ImageGen', () => {
    const { metrics, scalingMetrics } = createObservability('imagegen-probe');
    metrics.addMetric('Requests', MetricUnit.Count, 1);
    scalingMetrics.addDimension('EndpointName', 'imagegen-sdxl');
    scalingMetrics.addMetric('InferencesStarted', MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
    publishIfAny(scalingMetrics);
    const [service, scaling] = lines.map((line) => JSON.parse(line) as Emf);
    expect(service).toMatchObject({ service: 'imagegen-probe', _aws: { CloudWatchMetrics: [{ Namespace: 'ImageGen', Dimensions: [['service']] }] } });
    expect(scaling?.service).toBeUndefined();
    expect(scaling).toMatchObject({ _aws: { CloudWatchMetrics: [{ Namespace: 'ImageGen', Dimensions: [['EndpointName']] }] } });
  });

  it('an invocation that counted nothing writes no metric document and no empty-flush warning', () => {
    publishIfAny(createObservability('imagegen-probe').metrics);
    expect(lines).toEqual([]);
    expect(warnings).toEqual([]);
  });
});
