import { readForecastConfig } from '../../../tasks/publish-utilization/config';
import { forecastArrivals, ForecastInputError, validateForecastOptions } from '../../../tasks/publish-utilization/forecast';
import { ConfigError } from '../../../tasks/shared/config';

const all = { FORECAST_HORIZON_MINUTES: '5', FORECAST_WINDOW_MINUTES: '4', FORECAST_NOISE_SHARE: '0.03' };
const options = { horizonPeriods: 5, windowPeriods: 4, noiseSharePerPeriod: 0.03 };

/** The error `run` throws: its class, name and message. */
function failure(run: () => unknown): { error: unknown; name: string; message: string } {
  try {
    run();
  } catch (error) {
    return { error, name: (error as Error).name, message: (error as Error).message };
  }
  throw new Error('expected a failure');
}

describe('forecast settings in the environment', () => {
  it('accepts each setting at its bounds', () => {
    expect(readForecastConfig({ ...all, FORECAST_HORIZON_MINUTES: '60', FORECAST_NOISE_SHARE: '0' })).toEqual({ horizonPeriods: 60, windowPeriods: 4, noiseSharePerPeriod: 0 });
    expect(readForecastConfig({ ...all, FORECAST_WINDOW_MINUTES: '2', FORECAST_NOISE_SHARE: '1' })).toEqual({ horizonPeriods: 5, windowPeriods: 2, noiseSharePerPeriod: 1 });
    expect(readForecastConfig({ ...all, FORECAST_WINDOW_MINUTES: '60' })).toEqual({ ...options, windowPeriods: 60 });
  });

  it('treats blank settings as unset: none set is no forecast, one blank among set ones is named missing', () => {
    expect(readForecastConfig({ FORECAST_HORIZON_MINUTES: ' ', FORECAST_WINDOW_MINUTES: '', FORECAST_NOISE_SHARE: undefined })).toBeUndefined();
    const { error, message } = failure(() => readForecastConfig({ ...all, FORECAST_WINDOW_MINUTES: '  ' }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(message).toBe('environment variables FORECAST_HORIZON_MINUTES, FORECAST_WINDOW_MINUTES, FORECAST_NOISE_SHARE go together: FORECAST_WINDOW_MINUTES not set');
  });

  it('refuses a horizon past its bound and a share that is not a number from 0 to 1, naming the variable and the value', () => {
    expect(failure(() => readForecastConfig({ ...all, FORECAST_HORIZON_MINUTES: '60.5' }))).toMatchObject({
      name: 'ConfigError',
      message: 'environment variable FORECAST_HORIZON_MINUTES must be at most 60 (got "60.5")',
    });
    for (const raw of ['abc', '-0.01', '1.01', 'Infinity']) {
      expect(failure(() => readForecastConfig({ ...all, FORECAST_NOISE_SHARE: raw }))).toMatchObject({
        name: 'ConfigError',
        message: `environment variable FORECAST_NOISE_SHARE must be a number from 0 to 1 (got "${raw}")`,
      });
    }
  });
});

describe('forecast options', () => {
  it('accepts each option at its bounds', () => {
    for (const ok of [{ horizonPeriods: 60 }, { horizonPeriods: 0.5 }, { windowPeriods: 2 }, { windowPeriods: 60 }, { noiseSharePerPeriod: 0 }, { noiseSharePerPeriod: 1 }]) {
      expect(() => validateForecastOptions({ ...options, ...ok })).not.toThrow();
    }
  });

  it.each([
    [{ horizonPeriods: 60.5 }, 'horizonPeriods must be a number above 0 and at most 60 (got 60.5)'],
    [{ horizonPeriods: Number.NaN }, 'horizonPeriods must be a number above 0 and at most 60 (got NaN)'],
    [{ windowPeriods: 61 }, 'windowPeriods must be an integer from 2 to 60 (got 61)'],
    [{ windowPeriods: 3.5 }, 'windowPeriods must be an integer from 2 to 60 (got 3.5)'],
    [{ noiseSharePerPeriod: -0.01 }, 'noiseSharePerPeriod must be a number from 0 to 1 (got -0.01)'],
    [{ noiseSharePerPeriod: Number.NaN }, 'noiseSharePerPeriod must be a number from 0 to 1 (got NaN)'],
  ])('refuses %o as ForecastInputError, naming the option and its bounds', (bad, message) => {
    const { error, name } = failure(() => validateForecastOptions({ ...options, ...bad }));
    expect(error).toBeInstanceOf(ForecastInputError);
    expect({ name, message: (error as Error).message }).toEqual({ name: 'ForecastInputError', message });
  });

  it('refuses an arrivals count that is not a finite number, naming its position', () => {
    expect(failure(() => forecastArrivals([1, 2, Number.POSITIVE_INFINITY], options)).message).toBe('arrivals[2] must be a finite number ≥ 0 (got Infinity)');
    expect(forecastArrivals([0, 0, 0, 0], options)).toEqual({ arrivals: 0, risePerPeriod: 0 });
  });
});
