import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  paginateListObjectsV2,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ManualClock } from '../../../local/clock';
import { EdgeServer } from '../../../local/edge/server';
import type { EdgeRequest, ServiceHandler } from '../../../local/edge/types';
import { S3Service } from '../../../local/s3/s3-service';

const BUCKET = 'imagegen-images';

describe('S3Service through the edge', () => {
  let dataDir: string;
  let clock: ManualClock;
  let service: S3Service;
  let edge: EdgeServer;
  let url: string;
  let s3: S3Client;
  let seen: EdgeRequest[];

  const client = (extra: Partial<S3ClientConfig> = {}): S3Client =>
    new S3Client({
      endpoint: url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      ...extra,
    });

  async function boot(): Promise<void> {
    service = new S3Service({ dataDir, region: 'us-east-1', buckets: [BUCKET], clock });
    // Records what reaches the service, to prove the SDK really sent aws-chunked bodies.
    const recording: ServiceHandler = {
      ...service.handler,
      handle: (request) => {
        seen.push(request);
        return service.handler.handle(request);
      },
    };
    edge = new EdgeServer({ services: [recording], port: 0, region: 'us-east-1' });
    url = await edge.listen();
    s3 = client();
  }

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 's3-service-'));
    clock = new ManualClock();
    seen = [];
    await boot();
  });

  afterEach(async () => {
    s3.destroy();
    await edge.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const text = async (key: string, bucket = BUCKET): Promise<string> =>
    (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();

  describe('buckets', () => {
    it('lists the configured bucket and creates, heads and deletes others', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'second-bucket' }));
      const listed = await s3.send(new ListBucketsCommand({}));
      expect(listed.Buckets?.map((b) => b.Name)).toEqual([BUCKET, 'second-bucket']);
      expect(listed.Buckets?.[0]?.CreationDate).toEqual(new Date(clock.now()));

      await expect(s3.send(new HeadBucketCommand({ Bucket: 'second-bucket' }))).resolves.toBeDefined();
      await s3.send(new DeleteBucketCommand({ Bucket: 'second-bucket' }));
      await expect(s3.send(new HeadBucketCommand({ Bucket: 'second-bucket' }))).rejects.toMatchObject({
        name: 'NotFound',
        $metadata: { httpStatusCode: 404 },
      });
    });

    it('refuses to delete a bucket that still holds objects', async () => {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'a.txt', Body: 'a' }));
      await expect(s3.send(new DeleteBucketCommand({ Bucket: BUCKET }))).rejects.toMatchObject({ name: 'BucketNotEmpty' });
    });

    it('raises NoSuchBucket for an unknown bucket and InvalidBucketName for a bad name', async () => {
      await expect(s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket', Key: 'k' }))).rejects.toMatchObject({
        name: 'NoSuchBucket',
        $metadata: { httpStatusCode: 404 },
      });
      await expect(s3.send(new CreateBucketCommand({ Bucket: 'Bad_Name' }))).rejects.toMatchObject({ name: 'InvalidBucketName' });
    });
  });

  describe('objects', () => {
    it('round-trips content type, user metadata, ETag and Last-Modified', async () => {
      const put = await s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: 'images/a b+c.json', Body: '{"x":1}', ContentType: 'application/json', Metadata: { owner: 'campaign-7' } }),
      );
      const md5 = createHash('md5').update('{"x":1}').digest('hex');
      expect(put.ETag).toBe(`"${md5}"`);

      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'images/a b+c.json' }));
      expect(await got.Body!.transformToString()).toBe('{"x":1}');
      expect(got).toMatchObject({ ContentType: 'application/json', ContentLength: 7, ETag: `"${md5}"`, Metadata: { owner: 'campaign-7' } });
      expect(got.LastModified).toEqual(new Date(clock.now()));

      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'images/a b+c.json' }));
      expect(head).toMatchObject({ ContentType: 'application/json', ContentLength: 7, ETag: `"${md5}"`, Metadata: { owner: 'campaign-7' } });
    });

    it('stores the object as a plain file under <dataDir>/s3/<bucket>/<key>', async () => {
      const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]);
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'images/k1/original.png', Body: png, ContentType: 'image/png' }));
      expect(readFileSync(join(dataDir, 's3', BUCKET, 'images', 'k1', 'original.png'))).toEqual(png);
    });

    it('raises NoSuchKey on GET and a bodiless 404 NotFound on HEAD of a missing key', async () => {
      await expect(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'missing.png' }))).rejects.toMatchObject({
        name: 'NoSuchKey',
        $metadata: { httpStatusCode: 404 },
      });
      await expect(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'missing.png' }))).rejects.toMatchObject({
        name: 'NotFound',
        $metadata: { httpStatusCode: 404 },
      });
      const raw = await fetch(`${url}/${BUCKET}/missing.png`, { method: 'HEAD' });
      expect(raw.status).toBe(404);
      expect(await raw.text()).toBe('');
    });

    it('rejects a second create with If-None-Match: * as PreconditionFailed and keeps the first', async () => {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'claim', Body: 'first', IfNoneMatch: '*' }));
      await expect(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'claim', Body: 'second', IfNoneMatch: '*' }))).rejects.toMatchObject({
        name: 'PreconditionFailed',
        $metadata: { httpStatusCode: 412 },
      });
      expect(await text('claim')).toBe('first');
    });

    it('serves byte ranges and raises InvalidRange past the end', async () => {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'digits', Body: '0123456789' }));
      const mid = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'digits', Range: 'bytes=2-4' }));
      expect(await mid.Body!.transformToString()).toBe('234');
      expect(mid.ContentRange).toBe('bytes 2-4/10');
      expect(mid.$metadata.httpStatusCode).toBe(206);
      const tail = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'digits', Range: 'bytes=-3' }));
      expect(await tail.Body!.transformToString()).toBe('789');
      await expect(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'digits', Range: 'bytes=10-' }))).rejects.toMatchObject({
        name: 'InvalidRange',
        $metadata: { httpStatusCode: 416 },
      });
    });

    it('answers 304 when If-None-Match names the current ETag, and 412 when If-Match does not', async () => {
      const { ETag } = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'cached', Body: 'v1' }));
      await expect(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'cached', IfNoneMatch: ETag }))).rejects.toMatchObject({
        $metadata: { httpStatusCode: 304 },
      });
      await expect(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'cached', IfMatch: '"0000"' }))).rejects.toMatchObject({
        name: 'PreconditionFailed',
      });
      const fresh = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'cached', IfNoneMatch: '"other"' }));
      expect(await fresh.Body!.transformToString()).toBe('v1');
    });

    it('deletes one object, then many (deleting a missing key is not an error)', async () => {
      for (const key of ['d/1', 'd/2', 'd/3']) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: key }));
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'd/1' }));
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'd/never' }));
      const result = await s3.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: 'd/2' }, { Key: 'd/3' }, { Key: 'd/9' }] } }));
      expect(result.Deleted?.map((d) => d.Key)).toEqual(['d/2', 'd/3', 'd/9']);
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'd/' }));
      expect(listed.KeyCount).toBe(0);
      expect(existsSync(join(dataDir, 's3', BUCKET, 'd'))).toBe(false);
    });

    it('copies an object, keeping or replacing its metadata', async () => {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'src.txt', Body: 'payload', ContentType: 'text/plain', Metadata: { a: '1' } }));
      const kept = await s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'copy.txt', CopySource: `${BUCKET}/src.txt` }));
      expect(kept.CopyObjectResult?.ETag).toBe(`"${createHash('md5').update('payload').digest('hex')}"`);
      expect(await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'copy.txt' }))).toMatchObject({ ContentType: 'text/plain', Metadata: { a: '1' } });

      await s3.send(
        new CopyObjectCommand({ Bucket: BUCKET, Key: 'copy.txt', CopySource: `${BUCKET}/src.txt`, MetadataDirective: 'REPLACE', ContentType: 'text/csv', Metadata: { b: '2' } }),
      );
      const replaced = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'copy.txt' }));
      expect(replaced).toMatchObject({ ContentType: 'text/csv', Metadata: { b: '2' } });
      await expect(s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'x', CopySource: `${BUCKET}/nope` }))).rejects.toMatchObject({ name: 'NoSuchKey' });
      await expect(s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'src.txt', CopySource: `${BUCKET}/src.txt` }))).rejects.toMatchObject({
        name: 'InvalidRequest',
      });
    });
  });

  describe('aws-chunked uploads', () => {
    const megabyte = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < megabyte.length; i++) megabyte[i] = (i * 31 + (i >> 10)) & 0xff;

    it('decodes a 1 MB streamed body sent with the default checksum settings', async () => {
      const put = await s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: 'big.bin', Body: Readable.from([megabyte.subarray(0, 300_000), megabyte.subarray(300_000)]), ContentLength: megabyte.length }),
      );
      const request = seen.find((r) => r.method === 'PUT');
      expect(request?.headers['content-encoding']).toContain('aws-chunked');
      expect(request?.headers['x-amz-content-sha256']).toBe('STREAMING-UNSIGNED-PAYLOAD-TRAILER');
      expect(put.ETag).toBe(`"${createHash('md5').update(megabyte).digest('hex')}"`);
      expect(put.ChecksumCRC32).toBeDefined();

      expect(readFileSync(join(dataDir, 's3', BUCKET, 'big.bin')).equals(megabyte)).toBe(true);
      // The default client asks for and validates the stored checksum on GET.
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'big.bin' }));
      expect(got.ContentEncoding).toBeUndefined();
      expect(got.ChecksumCRC32).toBe(put.ChecksumCRC32);
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(megabyte)).toBe(true);
    });

    it('stores the same bytes from a client with WHEN_REQUIRED checksums', async () => {
      const plain = client({ requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
      try {
        await plain.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'big2.bin', Body: Readable.from([megabyte]), ContentLength: megabyte.length }));
        const got = await plain.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'big2.bin' }));
        expect(Buffer.from(await got.Body!.transformToByteArray()).equals(megabyte)).toBe(true);
      } finally {
        plain.destroy();
      }
    });

    it('rejects a body whose checksum does not match with BadDigest', async () => {
      await expect(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'bad', Body: 'abc', ChecksumCRC32: 'AAAAAA==' }))).rejects.toMatchObject({
        name: 'BadDigest',
      });
      await expect(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'bad' }))).rejects.toMatchObject({ name: 'NotFound' });
    });
  });

  describe('ListObjectsV2', () => {
    beforeEach(async () => {
      const keys = ['a/1', 'a/2', 'a/3', 'b/1', 'b/sub/1', 'c', 'd/1', 'e'];
      for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: key }));
    });

    it('pages through every key with continuation tokens', async () => {
      const pages: string[][] = [];
      for await (const page of paginateListObjectsV2({ client: s3, pageSize: 3 }, { Bucket: BUCKET })) {
        pages.push((page.Contents ?? []).map((c) => c.Key!));
        expect(page.KeyCount).toBe(page.Contents?.length ?? 0);
      }
      expect(pages).toEqual([['a/1', 'a/2', 'a/3'], ['b/1', 'b/sub/1', 'c'], ['d/1', 'e']]);
      const first = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: 3 }));
      expect(first.IsTruncated).toBe(true);
      expect(first.NextContinuationToken).toBeDefined();
    });

    it('rolls keys up into CommonPrefixes at the delimiter, counting each toward max-keys', async () => {
      const top = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Delimiter: '/' }));
      expect(top.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['a/', 'b/', 'd/']);
      expect(top.Contents?.map((c) => c.Key)).toEqual(['c', 'e']);
      expect(top.KeyCount).toBe(5);
      expect(top.IsTruncated).toBe(false);

      const paged = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Delimiter: '/', MaxKeys: 2 }));
      expect(paged.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['a/', 'b/']);
      const rest = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Delimiter: '/', ContinuationToken: paged.NextContinuationToken }));
      expect(rest.Contents?.map((c) => c.Key)).toEqual(['c', 'e']);
      expect(rest.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['d/']);

      const nested = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'b/', Delimiter: '/' }));
      expect(nested.Contents?.map((c) => c.Key)).toEqual(['b/1']);
      expect(nested.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['b/sub/']);
    });

    it('starts after a given key and reports size, ETag and storage class', async () => {
      const after = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, StartAfter: 'b/sub/1' }));
      expect(after.Contents?.map((c) => c.Key)).toEqual(['c', 'd/1', 'e']);
      expect(after.StartAfter).toBe('b/sub/1');
      expect(after.Contents?.[0]).toMatchObject({ Size: 1, ETag: `"${createHash('md5').update('c').digest('hex')}"`, StorageClass: 'STANDARD' });
    });

    it('rejects a forged continuation token', async () => {
      await expect(s3.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: 'not-a-token' }))).rejects.toMatchObject({ name: 'InvalidArgument' });
    });
  });

  describe('multipart upload', () => {
    const partOne = Buffer.alloc(5 * 1024 * 1024, 7);
    const partTwo = Buffer.from('the tail');

    it('assembles the parts in order with an md5-of-md5s ETag', async () => {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp.bin', ContentType: 'application/x-test', Metadata: { m: 'v' } }));
      const one = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'mp.bin', UploadId, PartNumber: 1, Body: partOne }));
      const two = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'mp.bin', UploadId, PartNumber: 2, Body: partTwo }));
      const done = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: 'mp.bin',
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: one.ETag }, { PartNumber: 2, ETag: two.ETag }] },
        }),
      );
      const digests = Buffer.concat([partOne, partTwo].map((p) => createHash('md5').update(p).digest()));
      expect(done.ETag).toBe(`"${createHash('md5').update(digests).digest('hex')}-2"`);
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'mp.bin' }));
      expect(got).toMatchObject({ ContentType: 'application/x-test', Metadata: { m: 'v' }, ContentLength: partOne.length + partTwo.length });
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat([partOne, partTwo]))).toBe(true);
      expect(await service.pendingUploads()).toEqual([]);
    });

    it('rejects a small non-final part, a wrong ETag, and an aborted upload id', async () => {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp2' }));
      const one = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'mp2', UploadId, PartNumber: 1, Body: partTwo }));
      const two = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'mp2', UploadId, PartNumber: 2, Body: partTwo }));
      const complete = (parts: { PartNumber: number; ETag: string | undefined }[]) =>
        s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp2', UploadId, MultipartUpload: { Parts: parts } }));
      await expect(complete([{ PartNumber: 1, ETag: one.ETag }, { PartNumber: 2, ETag: two.ETag }])).rejects.toMatchObject({ name: 'EntityTooSmall' });
      await expect(complete([{ PartNumber: 1, ETag: '"ffff"' }])).rejects.toMatchObject({ name: 'InvalidPart' });
      await expect(complete([{ PartNumber: 2, ETag: two.ETag }, { PartNumber: 1, ETag: one.ETag }])).rejects.toMatchObject({ name: 'InvalidPartOrder' });
      await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp2', UploadId }));
      await expect(complete([{ PartNumber: 1, ETag: one.ETag }])).rejects.toMatchObject({ name: 'NoSuchUpload', $metadata: { httpStatusCode: 404 } });
    });
  });

  describe('browser access', () => {
    it('serves a presigned GET URL to plain fetch', async () => {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'images/p q.png', Body: Buffer.from('PNGDATA'), ContentType: 'image/png' }));
      const signed = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: 'images/p q.png' }), { expiresIn: 600 });
      expect(signed).toContain('X-Amz-Signature=');
      const response = await fetch(signed);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/png');
      expect(Buffer.from(await response.arrayBuffer()).toString()).toBe('PNGDATA');
    });

    it('serves an unsigned GET (an object URL opened in a browser)', async () => {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'open.txt', Body: 'hello', ContentType: 'text/plain' }));
      const response = await fetch(`${url}/${BUCKET}/open.txt`);
      expect(await response.text()).toBe('hello');
      const missing = await fetch(`${url}/${BUCKET}/nope.txt`);
      expect(missing.status).toBe(404);
      expect(await missing.text()).toMatch(/<Error><Code>NoSuchKey<\/Code><Message>[^<]+<\/Message><Key>nope.txt<\/Key>/);
    });
  });

  describe('key safety', () => {
    const hostile = ['../escape.txt', 'a/../../escape2.txt', '/leading', '..', 'nul\u0000byte', 'dir/', 'x//y', '100%.txt'];

    it.each(hostile)('stores %j inside the bucket directory and reads it back', async (key) => {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: `body of ${key}` }));
      expect(await text(key)).toBe(`body of ${key}`);
      const outside = readdirSync(dataDir).sort();
      expect(outside).toEqual(['s3', 's3-meta', 's3-multipart', 's3-tmp']);
      expect(readdirSync(join(dataDir, 's3'))).toEqual([BUCKET]);
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
      expect(listed.Contents?.map((c) => c.Key)).toEqual([key]);
    });

    it('keeps a key and a key below it (a and a/b) as separate objects', async () => {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'a', Body: 'file a' }));
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'a/b', Body: 'file a/b' }));
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'c/d', Body: 'file c/d' }));
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'c', Body: 'file c' }));
      expect(await Promise.all(['a', 'a/b', 'c', 'c/d'].map((k) => text(k)))).toEqual(['file a', 'file a/b', 'file c', 'file c/d']);
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'a' }));
      expect(await text('a/b')).toBe('file a/b');
    });
  });

  describe('persistence', () => {
    it('sees objects and buckets written before a restart', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'made-later' }));
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'keep/me.txt', Body: 'kept', ContentType: 'text/plain', Metadata: { k: 'v' } }));
      s3.destroy();
      await edge.close();
      await boot();
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'keep/me.txt' }));
      expect(await got.Body!.transformToString()).toBe('kept');
      expect(got).toMatchObject({ ContentType: 'text/plain', Metadata: { k: 'v' } });
      expect((await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toContain('made-later');
    });

    it('rebuilds the metadata of a file changed behind its back, and drops leftover temp files', async () => {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'edited.txt', Body: 'old' }));
      writeFileSync(join(dataDir, 's3', BUCKET, 'edited.txt'), 'new content');
      writeFileSync(join(dataDir, 's3-tmp', 'half-written'), 'partial');
      s3.destroy();
      await edge.close();
      await boot();
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'edited.txt' }));
      expect(head).toMatchObject({ ContentLength: 11, ETag: `"${createHash('md5').update('new content').digest('hex')}"` });
      expect(readdirSync(join(dataDir, 's3-tmp'))).toEqual([]);
    });
  });

  describe('ObjectStorePort', () => {
    it('reads and writes in process, sharing state with the wire API', async () => {
      await service.putObject(BUCKET, 'async-output/x.out', Buffer.from('model output'), 'image/png');
      expect(await text('async-output/x.out')).toBe('model output');
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'inputs/k.json', Body: '{}', ContentType: 'application/json' }));
      expect(await service.getObject(BUCKET, 'inputs/k.json')).toEqual({ body: Buffer.from('{}'), contentType: 'application/json' });
      expect(await service.getObject(BUCKET, 'inputs/none.json')).toBeUndefined();
      await expect(service.getObject('no-bucket', 'k')).rejects.toMatchObject({ code: 'NoSuchBucket' });
    });
  });
});
