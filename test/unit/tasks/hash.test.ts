/**
 * The canonical form behind every cache key, content hash and derived seed. A change to it changes
 * every key, so cached images are never found again and a reused requestId reads as a conflict: the
 * exact text is pinned here.
 */
import { canonicalJson, sha256Hex, sha256Uint32 } from '../../../tasks/shared/hash';

describe('canonicalJson', () => {
  it('sorts object keys at every level, with no whitespace', () => {
    expect(canonicalJson({ z: 1, b: { y: true, a: null }, a: 'x' })).toBe('{"a":"x","b":{"a":null,"y":true},"z":1}');
  });

  it('sorts many keys given in reverse order', () => {
    const reversed = Object.fromEntries([...'zyxwvutsrqponmlkjihgfedcba'].map((k, i) => [k, i]));
    const text = canonicalJson(reversed);
    expect(Object.keys(JSON.parse(text) as object).join('')).toBe('abcdefghijklmnopqrstuvwxyz');
  });

  it('gives the same text for the same value however its keys were inserted', () => {
    expect(canonicalJson({ prompt: 'p', width: 1024, height: 768 })).toBe(canonicalJson({ height: 768, prompt: 'p', width: 1024 }));
  });

  it('omits undefined members, as JSON.stringify does', () => {
    expect(canonicalJson({ a: 1, b: undefined, c: { d: undefined } })).toBe('{"a":1,"c":{}}');
  });

  it('keeps array order and writes undefined elements as null, as JSON.stringify does', () => {
    expect(canonicalJson([3, undefined, 'x', [2, 1]])).toBe('[3,null,"x",[2,1]]');
    expect(canonicalJson([3, undefined])).toBe(JSON.stringify([3, undefined]));
  });

  it('writes scalars as JSON', () => {
    expect(canonicalJson('a "b"')).toBe('"a \\"b\\""');
    expect(canonicalJson(7.5)).toBe('7.5');
    expect(canonicalJson(false)).toBe('false');
    expect(canonicalJson(null)).toBe('null');
  });

  it('refuses a value JSON cannot encode, naming its type', () => {
    expect(() => canonicalJson(undefined)).toThrow(new TypeError('canonicalJson cannot encode undefined'));
    expect(() => canonicalJson(() => 1)).toThrow(new TypeError('canonicalJson cannot encode function'));
  });
});

describe('sha256', () => {
  it('hex digest of UTF-8 text (the published SHA-256 test vector)', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('Uint32 is the digest’s first 4 bytes, big-endian', () => {
    expect(sha256Uint32('abc')).toBe(0xba7816bf);
  });
});
