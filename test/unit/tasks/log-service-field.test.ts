import { createObservability } from '../../../tasks/shared/observability';

describe("a task's structured log", () => {
  const level = process.env.POWERTOOLS_LOG_LEVEL;
  afterEach(() => {
    process.env.POWERTOOLS_LOG_LEVEL = level;
    jest.restoreAllMocks();
  });

  it('carries the function as its service field, which the log queries filter on', () => {
    process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
    const lines: string[] = [];
    for (const method of ['log', 'info', 'warn', 'error'] as const) jest.spyOn(console, method).mockImplementation((...args: unknown[]) => void lines.push(String(args[0])));
    createObservability('imagegen-probe').logger.info('probe');
    expect(lines.map((line) => (JSON.parse(line) as { service?: string }).service)).toEqual(['imagegen-probe']);
  });
});
