/** The publisher's optional forecast settings, read once at start-up and named when malformed. */
import { ConfigError, requireInt, requirePositiveNumber, requireString } from '../shared/config';
import { FORECAST_BOUNDS as B, type ForecastOptions } from './forecast';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * `FORECAST_HORIZON_MINUTES` (> 0, at most 60), `FORECAST_WINDOW_MINUTES` (2–60) and
 * `FORECAST_NOISE_SHARE` (0–1) together, or none of them (no forecast: the evaluated minute's arrivals).
 */
export function readForecastConfig(env: Env = process.env): ForecastOptions | undefined {
  const names = ['FORECAST_HORIZON_MINUTES', 'FORECAST_WINDOW_MINUTES', 'FORECAST_NOISE_SHARE'] as const;
  const set = names.filter((name) => (env[name]?.trim() ?? '') !== '');
  if (set.length === 0) return undefined;
  if (set.length < names.length) throw new ConfigError(`environment variables ${names.join(', ')} go together: ${names.filter((n) => !set.includes(n)).join(', ')} not set`);
  const horizonPeriods = requirePositiveNumber('FORECAST_HORIZON_MINUTES', env);
  if (horizonPeriods > B.maxHorizonPeriods) throw new ConfigError(`environment variable FORECAST_HORIZON_MINUTES must be at most ${B.maxHorizonPeriods} (got "${env.FORECAST_HORIZON_MINUTES}")`);
  const windowPeriods = requireInt('FORECAST_WINDOW_MINUTES', B.minWindowPeriods, B.maxWindowPeriods, env);
  const raw = requireString('FORECAST_NOISE_SHARE', env);
  const noiseSharePerPeriod = Number(raw);
  if (!Number.isFinite(noiseSharePerPeriod) || noiseSharePerPeriod < 0 || noiseSharePerPeriod > B.maxNoiseShare) throw new ConfigError(`environment variable FORECAST_NOISE_SHARE must be a number from 0 to ${B.maxNoiseShare} (got "${raw}")`);
  return { horizonPeriods, windowPeriods, noiseSharePerPeriod };
}
