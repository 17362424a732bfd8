import { parseSchedule } from '../../../local/events/schedule';

const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

/** The next `count` firing times after `from`. */
function firings(expression: string, from: string, count: number): (string | undefined)[] {
  const schedule = parseSchedule(expression, at(from));
  const out: (string | undefined)[] = [];
  let t = at(from);
  for (let i = 0; i < count; i++) {
    const next = schedule.next(t);
    out.push(iso(next));
    if (next === undefined) break;
    t = next;
  }
  return out;
}

describe('rate expressions', () => {
  it.each([
    ['rate(1 minute)', ['2026-01-01T00:01:00.000Z', '2026-01-01T00:02:00.000Z']],
    ['rate(5 minutes)', ['2026-01-01T00:05:00.000Z', '2026-01-01T00:10:00.000Z']],
    ['rate(1 hour)', ['2026-01-01T01:00:00.000Z', '2026-01-01T02:00:00.000Z']],
    ['rate(2 days)', ['2026-01-03T00:00:00.000Z', '2026-01-05T00:00:00.000Z']],
  ])('%s counts from the anchor', (expression, expected) => {
    expect(firings(expression, '2026-01-01T00:00:00Z', 2)).toEqual(expected);
  });

  it('stays on the anchor grid when asked mid-period', () => {
    const schedule = parseSchedule('rate(10 minutes)', at('2026-01-01T00:00:00Z'));
    expect(iso(schedule.next(at('2026-01-01T00:13:00Z')))).toBe('2026-01-01T00:20:00.000Z');
  });

  it.each([
    ['rate(0 minutes)', /greater than 0/],
    ['rate(1 minutes)', /singular/],
    ['rate(2 hour)', /plural/],
    ['rate(5 seconds)', /positive whole number and a unit/],
    ['every 5 minutes', /expected rate/],
  ])('rejects %s', (expression, reason) => {
    expect(() => parseSchedule(expression, 0)).toThrow(expect.objectContaining({ code: 'ValidationException', message: expect.stringMatching(reason) as unknown }));
  });
});

describe('cron expressions (EventBridge six fields, UTC)', () => {
  it.each([
    // Documented examples: 10:15 every day; 18:00 Mon-Fri; 08:00 first of month; every 10 min Mon-Fri; every 5 min 8:00-17:55 Mon-Fri; 9:00 first Monday.
    ['cron(15 10 * * ? *)', '2026-01-01T00:00:00Z', ['2026-01-01T10:15:00.000Z', '2026-01-02T10:15:00.000Z']],
    ['cron(0 18 ? * MON-FRI *)', '2026-01-02T19:00:00Z', ['2026-01-05T18:00:00.000Z', '2026-01-06T18:00:00.000Z']],
    ['cron(0 8 1 * ? *)', '2026-01-01T09:00:00Z', ['2026-02-01T08:00:00.000Z', '2026-03-01T08:00:00.000Z']],
    ['cron(0/10 * ? * MON-FRI *)', '2026-01-02T23:55:00Z', ['2026-01-05T00:00:00.000Z', '2026-01-05T00:10:00.000Z']],
    ['cron(0/5 8-17 ? * MON-FRI *)', '2026-01-05T17:54:00Z', ['2026-01-05T17:55:00.000Z', '2026-01-06T08:00:00.000Z']],
    ['cron(0 9 ? * 2#1 *)', '2026-01-01T00:00:00Z', ['2026-01-05T09:00:00.000Z', '2026-02-02T09:00:00.000Z']],
    ['cron(0 0 L * ? *)', '2026-02-01T00:00:00Z', ['2026-02-28T00:00:00.000Z', '2026-03-31T00:00:00.000Z']],
    ['cron(0 0 15W * ? *)', '2026-02-01T00:00:00Z', ['2026-02-16T00:00:00.000Z', '2026-03-16T00:00:00.000Z']],
    ['cron(0 0 LW * ? *)', '2026-01-01T00:00:00Z', ['2026-01-30T00:00:00.000Z', '2026-02-27T00:00:00.000Z']],
    ['cron(0 0 ? * 6L *)', '2026-01-01T00:00:00Z', ['2026-01-30T00:00:00.000Z', '2026-02-27T00:00:00.000Z']],
    ['cron(0 12 1 JAN,JUL ? 2026-2027)', '2026-03-01T00:00:00Z', ['2026-07-01T12:00:00.000Z', '2027-01-01T12:00:00.000Z']],
    ['cron(0 12 1 1 ? 2026)', '2026-02-01T00:00:00Z', [undefined]],
  ])('%s after %s', (expression, from, expected) => {
    expect(firings(expression, from, expected.length)).toEqual(expected);
  });

  it.each([
    ['cron(0 10 * * *)', /6 fields/],
    ['cron(0 10 * * * *)', /exactly one of day-of-month and day-of-week must be "\?"/],
    ['cron(0 10 ? * ? *)', /exactly one of day-of-month and day-of-week/],
    ['cron(60 10 * * ? *)', /minutes value "60" is outside 0-59/],
    ['cron(0 24 * * ? *)', /hours value "24"/],
    ['cron(0 0 ? * 8 *)', /day-of-week value "8" is outside 1-7/],
    ['cron(0 0 ? * 2#6 *)', /must be 1-5/],
    ['cron(0 0 * FOO ? *)', /month value "FOO"/],
  ])('rejects %s', (expression, reason) => {
    expect(() => parseSchedule(expression, 0)).toThrow(expect.objectContaining({ code: 'ValidationException', message: expect.stringMatching(reason) as unknown }));
  });
});
