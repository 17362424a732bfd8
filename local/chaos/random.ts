/**
 * Seeded randomness for fault decisions. One stream per service, each derived from the plan's seed
 * and the stream's name, so the faults one service draws do not shift when another service draws
 * more or fewer: the same seed and the same sequence of decisions per service give the same faults.
 */

/** A uniform number in [0, 1). */
export type Random = () => number;

/** mulberry32: 32 bits of state, fast, and good enough to decide faults (not for cryptography). */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The seed of one named stream: FNV-1a over the name, mixed with the plan's seed. */
export function streamSeed(seed: number, stream: string): number {
  let hash = 0x811c9dc5 ^ seed;
  for (let i = 0; i < stream.length; i++) hash = Math.imul(hash ^ stream.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** A seed for a plan that names none (reported by GET, so the run can be repeated). */
export function randomSeed(): number {
  return Math.floor(Math.random() * 4_294_967_296);
}
