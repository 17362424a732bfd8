import { ManualClock } from '../../../local/clock';
import type { StoredPoint } from '../../../local/cloudwatch/models';
import { SqliteMetricsStore } from '../../../local/cloudwatch/store';
import { scratchDatabase, type ScratchDatabase } from '../shared/scratch-database';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const M = 60_000;
const DAY = 24 * 60 * M;
const identity = { namespace: 'ImageGen', metricName: 'Latency', dimensions: [{ Name: 'a', Value: '1' }, { Name: 'b', Value: '2' }] };
const point = (t: number, values: number[], resolution: 1 | 60 = 60): StoredPoint => ({ t, unit: 'Milliseconds', resolution, values });

describe('SqliteMetricsStore', () => {
  let scratch: ScratchDatabase;
  beforeEach(() => {
    scratch = scratchDatabase('cloudwatch-store');
  });
  afterEach(() => scratch.remove());

  it('reads back every point added, with its metric and values, after a restart', () => {
    const clock = new ManualClock(T0);
    const store = new SqliteMetricsStore(scratch.db, clock);
    store.add([{ identity, point: point(T0, [1, 2]) }, { identity: { ...identity, metricName: 'Other' }, point: point(T0, [3]) }]);
    store.add([{ identity, point: point(T0 + M, [4]) }]);

    const reread = new SqliteMetricsStore(scratch.reopen(), clock);
    expect(reread.metrics.get('ImageGen', 'Latency', identity.dimensions)?.points).toEqual([point(T0, [1, 2]), point(T0 + M, [4])]);
    expect(reread.metrics.get('ImageGen', 'Other', identity.dimensions)?.points).toEqual([point(T0, [3])]);
  });

  it('prunes points past retention from the database too: a restart does not bring them back', async () => {
    const clock = new ManualClock(T0);
    const store = new SqliteMetricsStore(scratch.db, clock);
    store.add([{ identity, point: point(T0, [1]) }, { identity, point: point(T0, [2], 1) }]);
    await clock.advance(4 * 60 * M);
    store.add([{ identity, point: point(clock.now(), [3]) }]);
    expect(new SqliteMetricsStore(scratch.reopen(), clock).metrics.get('ImageGen', 'Latency', identity.dimensions)?.points.map((p) => p.values)).toEqual([[1], [3]]);

    await clock.advance(16 * DAY);
    expect(new SqliteMetricsStore(scratch.reopen(), clock).metrics.all()).toEqual([]);
    expect(scratch.db.all('SELECT t FROM cloudwatch_points')).toEqual([]);
  });
});
