import { orchestrationOverheadMs } from '../../bench/pipeline';

describe('orchestrationOverheadMs', () => {
  it('does not subtract the render twice: the stand-in renders within its model time', () => {
    // 300 ms model time (render 120 ms of it), 80 ms post-processing, 470 ms end to end → 90 ms of orchestration.
    expect(orchestrationOverheadMs(470, 300, { renderMs: 120, postMs: 80 })).toBe(90);
  });

  it('counts a render slower than the model time as the model time', () => {
    expect(orchestrationOverheadMs(600, 300, { renderMs: 400, postMs: 80 })).toBe(120);
  });
});
