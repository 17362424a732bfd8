import { decodeAwsChunked, isAwsChunked, storedContentEncoding } from '../../../local/s3/aws-chunked';

describe('decodeAwsChunked', () => {
  it('joins unsigned chunks and reads the trailing checksum', () => {
    const body = Buffer.from('5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n');
    expect(decodeAwsChunked(body, 11)).toEqual({ payload: Buffer.from('hello world'), trailers: { 'x-amz-checksum-crc32': 'DUoRhQ==' } });
  });

  it('ignores chunk-signature extensions of signed streaming payloads', () => {
    const sig = 'a'.repeat(64);
    const body = Buffer.from(`3;chunk-signature=${sig}\r\nabc\r\n0;chunk-signature=${sig}\r\n\r\n`);
    expect(decodeAwsChunked(body).payload.toString()).toBe('abc');
  });

  it('keeps binary chunk data byte for byte, including CRLF inside a chunk', () => {
    const data = Buffer.from([0, 13, 10, 255, 48]);
    const body = Buffer.concat([Buffer.from('5\r\n'), data, Buffer.from('\r\n0\r\n\r\n')]);
    expect(decodeAwsChunked(body).payload).toEqual(data);
  });

  it.each([
    ['a non-hex size', 'zz\r\nabc\r\n0\r\n\r\n', 'InvalidChunkSizeError'],
    ['a truncated chunk', 'a\r\nabc', 'InvalidChunkSizeError'],
    ['a missing terminator', '3\r\nabc', 'InvalidChunkSizeError'],
  ])('rejects %s', (_label, text, code) => {
    expect(() => decodeAwsChunked(Buffer.from(text))).toThrow(expect.objectContaining({ code }));
  });

  it('rejects a body whose length disagrees with x-amz-decoded-content-length', () => {
    expect(() => decodeAwsChunked(Buffer.from('3\r\nabc\r\n0\r\n\r\n'), 4)).toThrow(expect.objectContaining({ code: 'IncompleteBody' }));
  });
});

describe('aws-chunked headers', () => {
  it('recognises the coding from Content-Encoding or a STREAMING- payload hash', () => {
    expect(isAwsChunked({ 'content-encoding': 'aws-chunked' })).toBe(true);
    expect(isAwsChunked({ 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' })).toBe(true);
    expect(isAwsChunked({ 'content-encoding': 'gzip', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' })).toBe(false);
  });

  it('stores only the content codings other than aws-chunked', () => {
    expect(storedContentEncoding('aws-chunked')).toBeUndefined();
    expect(storedContentEncoding('aws-chunked,gzip')).toBe('gzip');
    expect(storedContentEncoding(undefined)).toBeUndefined();
  });
});
