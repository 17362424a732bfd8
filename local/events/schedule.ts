/**
 * EventBridge schedule expressions: `rate(value unit)` and the six-field
 * `cron(minutes hours day-of-month month day-of-week year)`, evaluated in UTC.
 * Cron supports `, - * /` in every field, `?` in day-of-month/day-of-week (one of them must be
 * `?`), `L` and `W` in day-of-month, `L` and `#` in day-of-week, and month/day names.
 */
import { AwsServiceError } from '../edge/errors';

export interface Schedule {
  readonly expression: string;
  /** The first firing time strictly after `after` (epoch ms), or undefined if none remains. */
  next(after: number): number | undefined;
}

const MINUTE = 60_000;
const UNITS: Record<string, number> = { minute: MINUTE, hour: 60 * MINUTE, day: 24 * 60 * MINUTE };

function invalid(expression: string, reason: string): AwsServiceError {
  return new AwsServiceError('ValidationException', `Parameter ScheduleExpression is not valid: ${JSON.stringify(expression)}: ${reason}`);
}

/** `anchor` is when a rate schedule starts counting (rule creation / start of the cloud). */
export function parseSchedule(expression: string, anchor: number): Schedule {
  if (expression.length > 256) throw invalid(expression, 'at most 256 characters');
  const rate = /^rate\((.*)\)$/.exec(expression);
  if (rate) return parseRate(expression, rate[1] ?? '', anchor);
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (cron) return parseCron(expression, cron[1] ?? '');
  throw invalid(expression, 'expected rate(value unit) or cron(minutes hours day-of-month month day-of-week year)');
}

function parseRate(expression: string, body: string, anchor: number): Schedule {
  const match = /^\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*$/.exec(body);
  if (!match) throw invalid(expression, 'rate needs a positive whole number and a unit (minute(s), hour(s), day(s))');
  const value = Number(match[1]);
  const unit = match[2] as string;
  if (value < 1) throw invalid(expression, 'the rate value must be greater than 0');
  // AWS requires the singular unit for 1 and the plural for larger values.
  if ((value === 1) !== !unit.endsWith('s')) {
    throw invalid(expression, value === 1 ? 'a value of 1 needs a singular unit' : 'a value above 1 needs a plural unit');
  }
  const period = value * (UNITS[unit.replace(/s$/, '')] as number);
  return {
    expression,
    next(after) {
      const periods = Math.floor((after - anchor) / period) + 1;
      return anchor + Math.max(1, periods) * period;
    },
  };
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

type DayTest = (year: number, month: number, day: number) => boolean;

function parseCron(expression: string, body: string): Schedule {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6) throw invalid(expression, `cron needs 6 fields (minutes hours day-of-month month day-of-week year), got ${fields.length}`);
  const [min, hour, dom, month, dow, year] = fields as [string, string, string, string, string, string];
  if ((dom === '?') === (dow === '?')) {
    throw invalid(expression, 'exactly one of day-of-month and day-of-week must be "?"');
  }
  const minutes = parseSet(expression, 'minutes', min, 0, 59);
  const hours = parseSet(expression, 'hours', hour, 0, 23);
  const months = parseSet(expression, 'month', month, 1, 12, MONTHS);
  const years = parseSet(expression, 'year', year, 1970, 2199);
  const dayTest: DayTest = dom !== '?' ? parseDayOfMonth(expression, dom) : parseDayOfWeek(expression, dow);
  const sortedHours = [...hours].sort((a, b) => a - b);
  const sortedMinutes = [...minutes].sort((a, b) => a - b);
  return {
    expression,
    next(after) {
      const start = Math.floor(after / MINUTE) * MINUTE + MINUTE;
      const startDate = new Date(start);
      let day = Date.UTC(startDate.getUTCFullYear(), startDate.getUTCMonth(), startDate.getUTCDate());
      const maxYear = Math.max(...years);
      for (;;) {
        const d = new Date(day);
        const y = d.getUTCFullYear();
        if (y > maxYear) return undefined;
        if (years.has(y) && months.has(d.getUTCMonth() + 1) && dayTest(y, d.getUTCMonth() + 1, d.getUTCDate())) {
          for (const h of sortedHours) {
            for (const m of sortedMinutes) {
              const at = day + h * 60 * MINUTE + m * MINUTE;
              if (at >= start) return at;
            }
          }
        }
        day += 24 * 60 * MINUTE;
      }
    },
  };
}

function parseSet(expression: string, name: string, text: string, min: number, max: number, names?: readonly string[]): Set<number> {
  const result = new Set<number>();
  const value = (token: string): number => {
    const named = names?.indexOf(token.toUpperCase()) ?? -1;
    const n = named >= 0 ? named + min : /^\d+$/.test(token) ? Number(token) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) throw invalid(expression, `${name} value "${token}" is outside ${min}-${max}`);
    return n;
  };
  for (const part of text.split(',')) {
    const [range, stepText] = part.split('/') as [string, string | undefined];
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw invalid(expression, `${name} step "${stepText ?? ''}" must be a positive integer`);
    let low: number;
    let high: number;
    if (range === '*') {
      low = min;
      high = max;
    } else if (range.includes('-')) {
      const [a, b] = range.split('-') as [string, string];
      low = value(a);
      high = value(b);
      if (high < low) throw invalid(expression, `${name} range "${range}" runs backwards`);
    } else {
      low = value(range);
      high = stepText === undefined ? low : max;
    }
    for (let n = low; n <= high; n += step) result.add(n);
  }
  return result;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function weekday(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay();
}

/** The weekday (Mon–Fri) nearest `day`, staying inside the month. */
function nearestWeekday(year: number, month: number, day: number): number {
  const last = daysInMonth(year, month);
  const target = Math.min(day, last);
  const wd = weekday(year, month, target);
  if (wd === 6) return target === 1 ? 3 : target - 1;
  if (wd === 0) return target === last ? target - 2 : target + 1;
  return target;
}

function parseDayOfMonth(expression: string, text: string): DayTest {
  if (text === 'L') return (y, m, d) => d === daysInMonth(y, m);
  if (text === 'LW') return (y, m, d) => d === nearestWeekday(y, m, daysInMonth(y, m));
  const w = /^(\d{1,2})W$/.exec(text);
  if (w) {
    const day = Number(w[1]);
    if (day < 1 || day > 31) throw invalid(expression, `day-of-month "${text}" is outside 1-31`);
    return (y, m, d) => d === nearestWeekday(y, m, day);
  }
  const days = parseSet(expression, 'day-of-month', text, 1, 31);
  return (_y, _m, d) => days.has(d);
}

/** Day-of-week is 1-7 with 1 = SUN, as in EventBridge. */
function parseDayOfWeek(expression: string, text: string): DayTest {
  const dayValue = (token: string): number => {
    const named = DAYS.indexOf(token.toUpperCase());
    const n = named >= 0 ? named + 1 : /^\d$/.test(token) ? Number(token) : NaN;
    if (!(n >= 1 && n <= 7)) throw invalid(expression, `day-of-week value "${token}" is outside 1-7 (SUN-SAT)`);
    return n;
  };
  if (text === 'L') return (y, m, d) => weekday(y, m, d) === 6;
  const last = /^(\w+)L$/.exec(text);
  if (last) {
    const wd = dayValue(last[1] as string) - 1;
    return (y, m, d) => weekday(y, m, d) === wd && d + 7 > daysInMonth(y, m);
  }
  const nth = /^(\w+)#(\d)$/.exec(text);
  if (nth) {
    const wd = dayValue(nth[1] as string) - 1;
    const n = Number(nth[2]);
    if (n < 1 || n > 5) throw invalid(expression, `day-of-week "${text}": the occurrence after # must be 1-5`);
    return (y, m, d) => weekday(y, m, d) === wd && Math.ceil(d / 7) === n;
  }
  const days = parseSet(expression, 'day-of-week', text, 1, 7, DAYS);
  return (y, m, d) => days.has(weekday(y, m, d) + 1);
}
