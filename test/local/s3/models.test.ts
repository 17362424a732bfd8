import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareUtf8, etagMatches, evaluateConditions, listPage, md5Etag, multipartEtag, type ObjectMeta } from '../../../local/s3/models';
import { FileObjectStore } from '../../../local/s3/store';

const T0 = Date.parse('2026-01-01T00:00:00Z');

function meta(key: string): ObjectMeta {
  return { key, file: key, size: 1, etag: '"e"', lastModified: T0, contentType: 'text/plain', headers: {}, userMetadata: {}, checksums: {}, fileMtimeMs: T0 };
}

function list(keys: string[], prefix: string, delimiter: string, after = '', afterPrefix = false, maxKeys = 1000) {
  const sorted = [...keys].sort(compareUtf8);
  const page = listPage(sorted, meta, prefix, delimiter, { after, prefix: afterPrefix }, maxKeys);
  return { keys: page.contents.map((m) => m.key), prefixes: page.commonPrefixes, truncated: page.truncated, last: page.last };
}

describe('S3 models', () => {
  const keys = ['images/a/original.png', 'images/a/512w.webp', 'images/b/original.png', 'inputs/x.json', 'readme'];

  it('rolls keys up at the first delimiter after the prefix, each common prefix counting once toward max-keys', () => {
    expect(list(keys, 'images/', '/')).toEqual({ keys: [], prefixes: ['images/a/', 'images/b/'], truncated: false, last: { after: 'images/b/', prefix: true } });
    expect(list(keys, '', '/', '', false, 2)).toEqual({ keys: [], prefixes: ['images/', 'inputs/'], truncated: true, last: { after: 'inputs/', prefix: true } });
  });

  it('resumes after a rolled-up prefix by skipping every key under it', () => {
    expect(list(keys, '', '/', 'images/', true)).toEqual({ keys: ['readme'], prefixes: ['inputs/'], truncated: false, last: { after: 'readme', prefix: false } });
  });

  it('is never truncated at max-keys 0', () => {
    expect(list(keys, '', '', '', false, 0)).toMatchObject({ keys: [], truncated: false });
  });

  it('orders keys by UTF-8 bytes, not UTF-16 code units', () => {
    expect(['\u{1F600}', '\uFF5E'].sort(compareUtf8)).toEqual(['\uFF5E', '\u{1F600}']);
  });

  it('answers conditional requests with S3\'s precedence', () => {
    const object = { ...meta('k'), etag: '"abc"' };
    expect(evaluateConditions({ ifMatch: '"abc"', ifUnmodifiedSince: new Date(T0 - 1000).toUTCString() }, object)).toBe(200);
    expect(evaluateConditions({ ifMatch: '"zzz"' }, object)).toBe(412);
    expect(evaluateConditions({ ifUnmodifiedSince: new Date(T0 - 1000).toUTCString() }, object)).toBe(412);
    expect(evaluateConditions({ ifNoneMatch: 'W/"abc"', ifModifiedSince: new Date(T0 - 1000).toUTCString() }, object)).toBe(304);
    expect(evaluateConditions({ ifModifiedSince: new Date(T0).toUTCString() }, object)).toBe(304);
    expect(evaluateConditions({}, object)).toBe(200);
  });

  it('matches ETag lists, weak ETags and *', () => {
    expect(etagMatches('"x", "abc"', '"abc"')).toBe(true);
    expect(etagMatches('*', '"abc"')).toBe(true);
    expect(etagMatches('"x"', '"abc"')).toBe(false);
  });

  it('computes a multipart ETag from the parts\' binary MD5s', () => {
    const parts = [Buffer.from('one'), Buffer.from('two')];
    const expected = createHash('md5').update(Buffer.concat(parts.map((p) => createHash('md5').update(p).digest()))).digest('hex');
    expect(multipartEtag(parts.map(md5Etag))).toBe(`"${expected}-2"`);
  });
});

describe('FileObjectStore multipart uploads', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 's3-store-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps an upload and its parts across a restart, and forgets a part whose data file is gone', async () => {
    const store = new FileObjectStore(dataDir);
    const upload = { bucket: 'b', key: 'k', contentType: 'image/png', headers: {}, userMetadata: {}, initiated: T0 };
    await store.createUpload('u1', upload);
    await store.putPart('u1', 1, Buffer.from('part one'), { etag: md5Etag(Buffer.from('part one')), size: 8 });
    await store.putPart('u1', 2, Buffer.from('part two'), { etag: md5Etag(Buffer.from('part two')), size: 8 });

    const again = new FileObjectStore(dataDir);
    expect(await again.pendingUploads()).toEqual(['u1']);
    expect(await again.upload('u1')).toEqual(upload);
    expect((await again.part('u1', 1))?.info).toEqual({ etag: md5Etag(Buffer.from('part one')), size: 8 });
    unlinkSync((await again.part('u1', 2))!.file);
    expect(await again.part('u1', 2)).toBeUndefined();
    await again.deleteUpload('u1');
    expect(await again.upload('u1')).toBeUndefined();
    expect(await again.pendingUploads()).toEqual([]);
  });
});
