import { join, sep } from 'node:path';
import { containedPath, encodeSegment, keyToRelativePath } from '../../../local/s3/key-paths';

describe('keyToRelativePath', () => {
  it('keeps ordinary keys readable as nested folders', () => {
    expect(keyToRelativePath('images/abc/512w.webp')).toBe(['images', 'abc', '512w.webp'].join(sep));
  });

  it.each([
    ['..', '%2E%2E'],
    ['.', '%2E'],
    ['', '%'],
    ['50%', '50%25'],
    ['a\u0000b', 'a%00b'],
    ['back\\slash', 'back%5Cslash'],
  ])('encodes the unsafe segment %j as %j', (segment, encoded) => {
    expect(encodeSegment(segment)).toBe(encoded);
  });

  it('keeps distinct over-long segments distinct and within file-name limits', () => {
    const a = encodeSegment('x'.repeat(300) + 'a');
    const b = encodeSegment('x'.repeat(300) + 'b');
    expect(a).not.toBe(b);
    expect(Buffer.byteLength(a)).toBeLessThanOrEqual(200);
  });

  it('never yields a path that resolves outside the root', () => {
    const root = join(sep, 'data', 's3', 'bucket');
    for (const key of ['../../etc/passwd', '/etc/passwd', 'a/../../..', '..', '../']) {
      const full = containedPath(root, keyToRelativePath(key));
      expect(full.startsWith(root + sep)).toBe(true);
    }
    expect(() => containedPath(root, join('..', 'x'))).toThrow(/outside/);
  });
});
