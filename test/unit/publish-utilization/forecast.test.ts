import { ForecastInputError, forecastArrivals } from '../../../tasks/publish-utilization/forecast';

const options = { horizonPeriods: 5, windowPeriods: 4, noiseSharePerPeriod: 0.03 };

describe('forecastArrivals', () => {
  it('carries a rise beyond the noise share forward: latest + horizon × (slope − share × mean)', () => {
    // Slope 100 a minute over a mean of 350; 3 % of it (10.5) is noise: 500 + 5 × 89.5.
    const result = forecastArrivals([200, 300, 400, 500], options);
    expect(result.risePerPeriod).toBeCloseTo(89.5);
    expect(result.arrivals).toBeCloseTo(947.5);
  });

  it('fits the slope by least squares over the last windowPeriods minutes only', () => {
    // The 10 000 is outside the window; [0, 0, 0, 40] has slope 12 (mean 10).
    expect(forecastArrivals([10_000, 0, 0, 0, 40], options).risePerPeriod).toBeCloseTo(12 - 0.3);
  });

  it('leaves steady traffic that wanders by less than the noise share alone', () => {
    // Slope 10 a minute over a mean of 610: below 3 % of it (18.3).
    expect(forecastArrivals([600, 590, 630, 620], options)).toEqual({ arrivals: 620, risePerPeriod: 0 });
  });

  it('never forecasts below the latest minute: a fall is left to the scale-in alarms', () => {
    expect(forecastArrivals([900, 700, 500, 300], options)).toEqual({ arrivals: 300, risePerPeriod: 0 });
  });

  it('has no trend with fewer minutes than the window (a new endpoint): the latest minute', () => {
    expect(forecastArrivals([0, 100, 400], options)).toEqual({ arrivals: 400, risePerPeriod: 0 });
  });

  it('names the bad input', () => {
    expect(() => forecastArrivals([], options)).toThrow(new ForecastInputError('arrivals must hold at least the evaluated minute'));
    expect(() => forecastArrivals([1, -2], options)).toThrow(new ForecastInputError('arrivals[1] must be a finite number ≥ 0 (got -2)'));
    expect(() => forecastArrivals([1], { ...options, horizonPeriods: 0 })).toThrow(/horizonPeriods must be a number above 0 and at most 60 \(got 0\)/);
    expect(() => forecastArrivals([1], { ...options, windowPeriods: 1 })).toThrow(/windowPeriods must be an integer from 2 to 60 \(got 1\)/);
    expect(() => forecastArrivals([1], { ...options, noiseSharePerPeriod: 1.5 })).toThrow(/noiseSharePerPeriod must be a number from 0 to 1 \(got 1.5\)/);
  });
});
