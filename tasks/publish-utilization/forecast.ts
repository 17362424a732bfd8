/**
 * The arrivals the endpoint should be sized for. The evaluated minute is two to three minutes old
 * when it is published and an instance takes minutes to start, so on a rise the capacity sized for
 * that minute arrives too late and too small: the rise is carried forward `horizonPeriods` minutes.
 *
 *   trend     = least-squares slope of the last `windowPeriods` minutes' arrivals (per minute)
 *   rise      = trend − noiseSharePerPeriod × the window's mean   (never below 0)
 *   forecast  = the evaluated minute's arrivals + horizonPeriods × rise
 *
 * Only a rise counts: a fall is left to the scale-in alarms, which wait for several low minutes
 * anyway. A rise no steeper than the noise share (minute-to-minute wander of steady traffic) is
 * not a trend, so steady traffic is not over-provisioned; a rising forecast also keeps the
 * utilization up, so the step scale-in does not remove capacity in the middle of a climb.
 */
export interface ForecastOptions {
  /** Minutes ahead the rise is carried (> 0). */
  readonly horizonPeriods: number;
  /** Minutes the trend is fitted over, the evaluated one last (≥ 2). */
  readonly windowPeriods: number;
  /** A rise per minute up to this share of the window's mean arrivals is noise (0–1). */
  readonly noiseSharePerPeriod: number;
}

export interface ArrivalsForecast {
  /** The evaluated minute's arrivals plus the rise carried forward. */
  readonly arrivals: number;
  /** The rise per minute beyond the noise share that was carried forward (0 without a trend). */
  readonly risePerPeriod: number;
}

/** The settings' bounds, shared by the function's environment, the simulator's policies and the check below. */
export const FORECAST_BOUNDS = { maxHorizonPeriods: 60, minWindowPeriods: 2, maxWindowPeriods: 60, maxNoiseShare: 1 } as const;
const B = FORECAST_BOUNDS;

export class ForecastInputError extends Error {
  override readonly name = 'ForecastInputError';
}

export function validateForecastOptions(options: ForecastOptions): void {
  const { horizonPeriods, windowPeriods, noiseSharePerPeriod } = options;
  if (!Number.isFinite(horizonPeriods) || horizonPeriods <= 0 || horizonPeriods > B.maxHorizonPeriods) throw new ForecastInputError(`horizonPeriods must be a number above 0 and at most ${B.maxHorizonPeriods} (got ${horizonPeriods})`);
  if (!Number.isInteger(windowPeriods) || windowPeriods < B.minWindowPeriods || windowPeriods > B.maxWindowPeriods) throw new ForecastInputError(`windowPeriods must be an integer from ${B.minWindowPeriods} to ${B.maxWindowPeriods} (got ${windowPeriods})`);
  if (!Number.isFinite(noiseSharePerPeriod) || noiseSharePerPeriod < 0 || noiseSharePerPeriod > B.maxNoiseShare) throw new ForecastInputError(`noiseSharePerPeriod must be a number from 0 to ${B.maxNoiseShare} (got ${noiseSharePerPeriod})`);
}

/**
 * `recent`: arrivals of consecutive minutes, oldest first, the evaluated minute last. With fewer
 * than `windowPeriods` of them (a new endpoint) there is no trend: the evaluated minute's arrivals.
 */
export function forecastArrivals(recent: readonly number[], options: ForecastOptions): ArrivalsForecast {
  validateForecastOptions(options);
  recent.forEach((value, i) => {
    if (!Number.isFinite(value) || value < 0) throw new ForecastInputError(`arrivals[${i}] must be a finite number ≥ 0 (got ${value})`);
  });
  const latest = recent[recent.length - 1];
  if (latest === undefined) throw new ForecastInputError('arrivals must hold at least the evaluated minute');
  const window = recent.slice(-options.windowPeriods);
  if (window.length < options.windowPeriods) return { arrivals: latest, risePerPeriod: 0 };
  const n = window.length;
  const meanX = (n - 1) / 2;
  const meanY = window.reduce((a, b) => a + b, 0) / n;
  let covariance = 0;
  let variance = 0;
  window.forEach((y, x) => {
    covariance += (x - meanX) * (y - meanY);
    variance += (x - meanX) ** 2;
  });
  const risePerPeriod = Math.max(0, covariance / variance - options.noiseSharePerPeriod * meanY);
  return { arrivals: latest + options.horizonPeriods * risePerPeriod, risePerPeriod };
}
