import { readForecastConfig } from '../../../tasks/publish-utilization/config';
import { ConfigError } from '../../../tasks/shared/config';

const all = { FORECAST_HORIZON_MINUTES: '5', FORECAST_WINDOW_MINUTES: '4', FORECAST_NOISE_SHARE: '0.03' };

describe('readForecastConfig', () => {
  it('reads the three settings together', () => {
    expect(readForecastConfig(all)).toEqual({ horizonPeriods: 5, windowPeriods: 4, noiseSharePerPeriod: 0.03 });
  });

  it('is no forecast when none is set', () => {
    expect(readForecastConfig({})).toBeUndefined();
  });

  it('names the settings missing from a partial set', () => {
    expect(() => readForecastConfig({ FORECAST_HORIZON_MINUTES: '5' })).toThrow(
      new ConfigError('environment variables FORECAST_HORIZON_MINUTES, FORECAST_WINDOW_MINUTES, FORECAST_NOISE_SHARE go together: FORECAST_WINDOW_MINUTES, FORECAST_NOISE_SHARE not set'),
    );
  });

  it('names the variable and its bound when a value is out of range', () => {
    expect(() => readForecastConfig({ ...all, FORECAST_HORIZON_MINUTES: '90' })).toThrow(/FORECAST_HORIZON_MINUTES must be at most 60 \(got "90"\)/);
    expect(() => readForecastConfig({ ...all, FORECAST_HORIZON_MINUTES: '0' })).toThrow(/FORECAST_HORIZON_MINUTES must be a positive number/);
    expect(() => readForecastConfig({ ...all, FORECAST_WINDOW_MINUTES: '1' })).toThrow(/FORECAST_WINDOW_MINUTES must be an integer from 2 to 60 \(got "1"\)/);
    expect(() => readForecastConfig({ ...all, FORECAST_NOISE_SHARE: '-0.1' })).toThrow(/FORECAST_NOISE_SHARE must be a number from 0 to 1 \(got "-0.1"\)/);
  });
});
