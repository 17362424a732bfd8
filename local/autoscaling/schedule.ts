/**
 * Application Auto Scaling schedules: `at(yyyy-mm-ddThh:mm:ss)`, `rate(value unit)` and the AWS
 * six-field `cron(min hour day-of-month month day-of-week year)`, in an IANA time zone (cron-parser 5).
 */
import { CronExpressionParser } from 'cron-parser';
import { AwsServiceError } from '../edge/errors';

export interface ActionSchedule {
  /** First firing strictly after `after` (epoch ms), undefined when none remains. */
  next(after: number): number | undefined;
}

const invalid = (schedule: string, why: string) => new AwsServiceError('ValidationException', `Schedule ${JSON.stringify(schedule)} is not valid: ${why}`);

/** Offset (ms) of `timeZone` from UTC at `utcMs`. */
function zoneOffset(utcMs: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(new Date(utcMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - Math.floor(utcMs / 1000) * 1000;
}

/** AWS day-of-week numbers are 1 (SUN) … 7 (SAT); cron-parser's are 0 … 6. */
function convertDayOfWeek(field: string): string {
  return field.replace(/(^|[,-])(\d)/g, (_, sep: string, d: string) => `${sep}${Number(d) - 1}`);
}

export function parseActionSchedule(schedule: string, timeZone: string, anchor: number): ActionSchedule {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new AwsServiceError('ValidationException', `Timezone ${JSON.stringify(timeZone)} is not a valid IANA time zone`);
  }
  const at = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/.exec(schedule);
  if (at) {
    const [y, mo, d, h, mi, s] = at.slice(1).map(Number) as [number, number, number, number, number, number];
    const local = Date.UTC(y, mo - 1, d, h, mi, s);
    const when = local - zoneOffset(local - zoneOffset(local, timeZone), timeZone);
    return { next: (after) => (when > after ? when : undefined) };
  }
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(schedule);
  if (rate) {
    const unit = { minute: 60_000, hour: 3_600_000, day: 86_400_000 }[(rate[2] as string).replace(/s$/, '') as 'minute'];
    const period = Number(rate[1]) * unit;
    if (period <= 0) throw invalid(schedule, 'the rate must be positive');
    return { next: (after) => anchor + (Math.floor((after - anchor) / period) + 1) * period };
  }
  const cron = /^cron\((.*)\)$/.exec(schedule);
  if (!cron) throw invalid(schedule, 'expected at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(fields)');
  const fields = (cron[1] as string).trim().split(/\s+/);
  if (fields.length !== 6) throw invalid(schedule, `cron needs 6 fields (minutes hours day-of-month month day-of-week year), got ${fields.length}`);
  const [min, hour, dom, month, dow, year] = fields as [string, string, string, string, string, string];
  if (year !== '*' && !/^\d{4}$/.test(year)) throw invalid(schedule, 'the year field must be * or a single year here');
  const expression = `0 ${min} ${hour} ${dom.replace('?', '*')} ${month} ${dow === '?' ? '*' : convertDayOfWeek(dow)}`;
  try {
    CronExpressionParser.parse(expression, { tz: timeZone });
  } catch (error) {
    throw invalid(schedule, (error as Error).message);
  }
  return {
    next(after) {
      const it = CronExpressionParser.parse(expression, { tz: timeZone, currentDate: new Date(after) });
      for (let i = 0; i < 1000; i++) {
        const t = it.next().getTime();
        if (year === '*' || new Date(t).getUTCFullYear() === Number(year)) return t;
        if (new Date(t).getUTCFullYear() > Number(year)) return undefined;
      }
      return undefined;
    },
  };
}
