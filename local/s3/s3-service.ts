/**
 * S3 emulator: REST-XML, path-style (`/bucket/key`), objects persisted as plain files.
 * Also the edge's default for unsigned requests, so an object URL opens in a browser, and the
 * in-process `ObjectStorePort` other emulators (the async endpoint) read and write through.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { systemClock, type Clock } from '../clock';
import { AwsServiceError } from '../edge/errors';
import type { EdgeRequest, EdgeResponse, ServiceHandler } from '../edge/types';
import type { ObjectStorePort } from '../ports';
import { decodeAwsChunked, isAwsChunked, storedContentEncoding } from './aws-chunked';
import { compareUtf8, FileObjectStore, type ObjectMeta } from './object-store';
import { el, escapeXml, parseXmlBody, xmlDocument } from './xml';

export interface S3ServiceOptions {
  /** Root of the local cloud's state; objects go under `<dataDir>/s3/<bucket>/<key>`. */
  readonly dataDir: string;
  readonly region: string;
  /** Buckets created at start (existing ones are kept as they are). */
  readonly buckets: readonly string[];
  /** @default systemClock */
  readonly clock?: Clock;
}

const CHECKSUM_ALGORITHMS = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const;
/** Representation headers S3 stores with an object and returns on GET/HEAD. */
const STORED_HEADERS = ['cache-control', 'content-disposition', 'content-language', 'expires'] as const;
const MIN_PART_BYTES = 5 * 1024 * 1024;
const MAX_KEY_BYTES = 1024;
const OWNER = { id: '75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a', name: 'imagegen-local' };
const NOT_EMULATED_SUBRESOURCES = [
  'acl', 'policy', 'cors', 'lifecycle', 'versioning', 'versions', 'tagging', 'website', 'logging', 'notification',
  'replication', 'encryption', 'object-lock', 'publicAccessBlock', 'ownershipControls', 'accelerate', 'analytics',
  'inventory', 'metrics', 'requestPayment', 'intelligent-tiering', 'legal-hold', 'retention', 'restore', 'select',
  'torrent', 'attributes', 'policyStatus',
];

interface MultipartUpload {
  readonly bucket: string;
  readonly key: string;
  readonly contentType: string;
  readonly headers: Record<string, string>;
  readonly userMetadata: Record<string, string>;
  readonly initiated: number;
}

interface PartInfo {
  readonly etag: string;
  readonly size: number;
}

interface ParsedPath {
  readonly bucket: string | undefined;
  readonly key: string | undefined;
}

export class S3Service implements ObjectStorePort {
  readonly handler: ServiceHandler;
  private readonly store: FileObjectStore;
  private readonly clock: Clock;
  private readonly multipartDir: string;

  constructor(private readonly options: S3ServiceOptions) {
    this.clock = options.clock ?? systemClock;
    this.store = new FileObjectStore(options.dataDir);
    this.multipartDir = join(options.dataDir, 's3-multipart');
    mkdirSync(this.multipartDir, { recursive: true });
    for (const bucket of options.buckets) {
      validateBucketName(bucket);
      this.store.createBucket(bucket, this.now());
    }
    this.handler = {
      name: 's3',
      signingNames: ['s3'],
      handle: async (request) => {
        try {
          return await this.route(request);
        } catch (error) {
          if (error instanceof AwsServiceError) return errorResponse(error, request);
          throw error;
        }
      },
    };
  }

  async getObject(bucket: string, key: string): Promise<{ body: Buffer; contentType: string } | undefined> {
    this.requireBucket(bucket);
    const meta = this.store.head(bucket, key);
    if (!meta) return undefined;
    return { body: await this.store.read(meta, bucket), contentType: meta.contentType };
  }

  async putObject(bucket: string, key: string, body: Buffer, contentType: string): Promise<void> {
    this.requireBucket(bucket);
    validateKey(key);
    const temp = await this.store.writeTemp(body);
    await this.store.commit(bucket, key, temp, {
      etag: md5Etag(body),
      lastModified: this.now(),
      contentType,
      headers: {},
      userMetadata: {},
      checksums: {},
    });
  }

  private async route(request: EdgeRequest): Promise<EdgeResponse> {
    const { bucket, key } = parsePath(request.rawPath);
    const q = request.query;
    const method = request.method.toUpperCase();
    if (bucket === undefined) {
      if (method === 'GET') return this.listBuckets(q);
      throw notImplemented(`${method} /`);
    }
    const subresource = NOT_EMULATED_SUBRESOURCES.find((name) => q.has(name));
    if (subresource) throw notImplemented(`the ?${subresource} subresource`);
    if (key === undefined) {
      switch (method) {
        case 'PUT':
          return this.createBucket(bucket);
        case 'HEAD':
          this.requireBucket(bucket);
          return { status: 200, headers: { 'x-amz-bucket-region': this.options.region } };
        case 'DELETE':
          return this.deleteBucket(bucket);
        case 'POST':
          if (q.has('delete')) return this.deleteObjects(bucket, request);
          break;
        case 'GET':
          if (q.has('location')) return this.getBucketLocation(bucket);
          if (q.has('uploads')) throw notImplemented('ListMultipartUploads');
          return q.get('list-type') === '2' ? this.listObjectsV2(bucket, q) : this.listObjectsV1(bucket, q);
      }
      throw notImplemented(`${method} on a bucket`);
    }
    validateKey(key);
    const uploadId = q.get('uploadId');
    switch (method) {
      case 'PUT':
        if (uploadId !== null) {
          if (request.headers['x-amz-copy-source']) throw notImplemented('UploadPartCopy');
          return this.uploadPart(bucket, key, uploadId, request);
        }
        if (request.headers['x-amz-copy-source'] !== undefined) return this.copyObject(bucket, key, request);
        return this.putObjectRequest(bucket, key, request);
      case 'GET':
        if (uploadId !== null) throw notImplemented('ListParts');
        return this.getObjectRequest(bucket, key, request, false);
      case 'HEAD':
        return this.getObjectRequest(bucket, key, request, true);
      case 'DELETE':
        if (uploadId !== null) return this.abortMultipartUpload(bucket, key, uploadId);
        this.requireBucket(bucket);
        await this.store.delete(bucket, key);
        return { status: 204 };
      case 'POST':
        if (q.has('uploads')) return this.createMultipartUpload(bucket, key, request);
        if (uploadId !== null) return this.completeMultipartUpload(bucket, key, uploadId, request);
        break;
    }
    throw notImplemented(`${method} on an object`);
  }

  // ---- buckets -------------------------------------------------------------------------------

  private listBuckets(q: URLSearchParams): EdgeResponse {
    const prefix = q.get('prefix') ?? '';
    const buckets = this.store
      .bucketNames()
      .filter((b) => b.name.startsWith(prefix))
      .map((b) => `<Bucket>${el('Name', b.name)}${el('CreationDate', iso(b.creationDate))}${el('BucketRegion', this.options.region)}</Bucket>`)
      .join('');
    return xmlResponse(
      xmlDocument('ListAllMyBucketsResult', `<Owner>${el('ID', OWNER.id)}${el('DisplayName', OWNER.name)}</Owner><Buckets>${buckets}</Buckets>`),
    );
  }

  private createBucket(bucket: string): EdgeResponse {
    validateBucketName(bucket);
    // us-east-1 answers 200 when the caller already owns the bucket; other regions answer 409.
    if (this.store.hasBucket(bucket) && this.options.region !== 'us-east-1') {
      throw new AwsServiceError('BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', 409);
    }
    this.store.createBucket(bucket, this.now());
    return { status: 200, headers: { location: `/${bucket}` } };
  }

  private async deleteBucket(bucket: string): Promise<EdgeResponse> {
    this.requireBucket(bucket);
    if (!this.store.isEmpty(bucket)) {
      throw new AwsServiceError('BucketNotEmpty', 'The bucket you tried to delete is not empty', 409);
    }
    await this.store.deleteBucket(bucket);
    return { status: 204 };
  }

  private getBucketLocation(bucket: string): EdgeResponse {
    this.requireBucket(bucket);
    // us-east-1 is reported as an empty LocationConstraint.
    const region = this.options.region === 'us-east-1' ? '' : this.options.region;
    return xmlResponse(`<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${escapeXml(region)}</LocationConstraint>`);
  }

  // ---- listing -------------------------------------------------------------------------------

  private listObjectsV2(bucket: string, q: URLSearchParams): EdgeResponse {
    this.requireBucket(bucket);
    const maxKeys = parseMaxKeys(q.get('max-keys'));
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const startAfter = q.get('start-after') ?? '';
    const token = q.get('continuation-token');
    const cursor = token !== null ? decodeToken(token) : { after: startAfter, prefix: false };
    const page = this.listPage(bucket, prefix, delimiter, cursor, maxKeys);
    const encode = urlEncoder(q.get('encoding-type'));
    const fetchOwner = q.get('fetch-owner') === 'true';
    const body =
      el('Name', bucket) +
      el('Prefix', encode(prefix)) +
      (delimiter ? el('Delimiter', encode(delimiter)) : '') +
      el('MaxKeys', maxKeys) +
      (q.get('encoding-type') ? el('EncodingType', 'url') : '') +
      el('KeyCount', page.contents.length + page.commonPrefixes.length) +
      el('IsTruncated', page.truncated) +
      (token !== null ? el('ContinuationToken', token) : '') +
      (page.truncated && page.last ? el('NextContinuationToken', encodeToken(page.last)) : '') +
      (q.has('start-after') ? el('StartAfter', encode(startAfter)) : '') +
      page.contents.map((m) => contentsXml(m, encode, fetchOwner)).join('') +
      page.commonPrefixes.map((p) => `<CommonPrefixes>${el('Prefix', encode(p))}</CommonPrefixes>`).join('');
    return xmlResponse(xmlDocument('ListBucketResult', body));
  }

  private listObjectsV1(bucket: string, q: URLSearchParams): EdgeResponse {
    this.requireBucket(bucket);
    const maxKeys = parseMaxKeys(q.get('max-keys'));
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const marker = q.get('marker') ?? '';
    const page = this.listPage(bucket, prefix, delimiter, { after: marker, prefix: false }, maxKeys);
    const encode = urlEncoder(q.get('encoding-type'));
    const body =
      el('Name', bucket) +
      el('Prefix', encode(prefix)) +
      el('Marker', encode(marker)) +
      el('MaxKeys', maxKeys) +
      (delimiter ? el('Delimiter', encode(delimiter)) : '') +
      (q.get('encoding-type') ? el('EncodingType', 'url') : '') +
      el('IsTruncated', page.truncated) +
      // V1 returns NextMarker only with a delimiter; without one the client uses the last key.
      (page.truncated && delimiter && page.last ? el('NextMarker', encode(page.last.after)) : '') +
      page.contents.map((m) => contentsXml(m, encode, true)).join('') +
      page.commonPrefixes.map((p) => `<CommonPrefixes>${el('Prefix', encode(p))}</CommonPrefixes>`).join('');
    return xmlResponse(xmlDocument('ListBucketResult', body));
  }

  private listPage(bucket: string, prefix: string, delimiter: string, cursor: Cursor, maxKeys: number) {
    const contents: ObjectMeta[] = [];
    const commonPrefixes: string[] = [];
    let last: Cursor | undefined;
    let truncated = false;
    for (const key of this.store.sortedKeys(bucket)) {
      if (!key.startsWith(prefix)) continue;
      if (cursor.after && compareUtf8(key, cursor.after) <= 0) continue;
      // Resuming after a common prefix skips every key rolled up into it.
      if (cursor.prefix && key.startsWith(cursor.after)) continue;
      let rolledUp: string | undefined;
      if (delimiter) {
        const at = key.indexOf(delimiter, prefix.length);
        if (at >= 0) rolledUp = key.slice(0, at + delimiter.length);
      }
      if (rolledUp !== undefined && rolledUp === commonPrefixes[commonPrefixes.length - 1]) continue;
      if (contents.length + commonPrefixes.length >= maxKeys) {
        truncated = maxKeys > 0;
        break;
      }
      if (rolledUp !== undefined) {
        commonPrefixes.push(rolledUp);
        last = { after: rolledUp, prefix: true };
      } else {
        const meta = this.store.head(bucket, key);
        if (!meta) continue;
        contents.push(meta);
        last = { after: key, prefix: false };
      }
    }
    return { contents, commonPrefixes, truncated, last };
  }

  // ---- objects -------------------------------------------------------------------------------

  private async putObjectRequest(bucket: string, key: string, request: EdgeRequest): Promise<EdgeResponse> {
    this.requireBucket(bucket);
    const { payload, checksums } = readPayload(request);
    const ifNoneMatch = header(request, 'if-none-match');
    const ifMatch = header(request, 'if-match');
    const existing = this.store.head(bucket, key);
    if (ifNoneMatch !== undefined) {
      if (ifNoneMatch.trim() !== '*') throw new AwsServiceError('NotImplemented', 'If-None-Match on PutObject supports only *', 501);
      if (existing) throw preconditionFailed('If-None-Match');
    }
    if (ifMatch !== undefined) {
      if (!existing) throw new AwsServiceError('NoSuchKey', 'The specified key does not exist.', 404);
      if (!etagMatches(ifMatch, existing.etag)) throw preconditionFailed('If-Match');
    }
    const meta = await this.commitBody(bucket, key, payload, {
      lastModified: this.now(),
      contentType: header(request, 'content-type') ?? 'application/octet-stream',
      headers: representationHeaders(request),
      userMetadata: userMetadata(request),
      checksums,
    });
    return { status: 200, headers: { etag: meta.etag, ...checksumHeaders(meta.checksums) } };
  }

  private async commitBody(bucket: string, key: string, payload: Buffer, object: Omit<ObjectMeta, 'key' | 'file' | 'size' | 'etag' | 'fileMtimeMs'>): Promise<ObjectMeta> {
    const temp = await this.store.writeTemp(payload);
    return this.store.commit(bucket, key, temp, { ...object, etag: md5Etag(payload) });
  }

  private async getObjectRequest(bucket: string, key: string, request: EdgeRequest, headOnly: boolean): Promise<EdgeResponse> {
    this.requireBucket(bucket);
    const meta = this.store.head(bucket, key);
    if (!meta) throw new AwsServiceError('NoSuchKey', 'The specified key does not exist.', 404);
    const partNumber = request.query.get('partNumber');
    if (partNumber !== null && partNumber !== '1') throw new AwsServiceError('InvalidPartNumber', 'The requested partnumber is not satisfiable', 416);
    const base: Record<string, string> = {
      etag: meta.etag,
      'last-modified': httpDate(meta.lastModified),
    };
    const precondition = evaluateConditions(request, meta);
    if (precondition === 304) return { status: 304, headers: base };
    if (precondition === 412) throw preconditionFailed('If-Match');

    const headers: Record<string, string> = {
      ...base,
      'content-type': meta.contentType,
      'accept-ranges': 'bytes',
      ...meta.headers,
    };
    for (const [name, value] of Object.entries(meta.userMetadata)) headers[`x-amz-meta-${name}`] = value;
    if (meta.partsCount !== undefined) headers['x-amz-mp-parts-count'] = String(meta.partsCount);
    for (const [param, name] of [
      ['response-content-type', 'content-type'],
      ['response-content-language', 'content-language'],
      ['response-expires', 'expires'],
      ['response-cache-control', 'cache-control'],
      ['response-content-disposition', 'content-disposition'],
      ['response-content-encoding', 'content-encoding'],
    ] as const) {
      const value = request.query.get(param);
      if (value !== null) headers[name] = value;
    }

    const range = parseRange(header(request, 'range'), meta.size);
    if (range) {
      headers['content-range'] = `bytes ${range.start}-${range.end}/${meta.size}`;
      headers['content-length'] = String(range.end - range.start + 1);
      const body = headOnly ? undefined : await this.store.read(meta, bucket, range);
      return { status: 206, headers, ...(body ? { body } : {}) };
    }
    // Full-object checksums only, and only when asked for (the SDK then validates them).
    if (header(request, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED') Object.assign(headers, checksumHeaders(meta.checksums));
    headers['content-length'] = String(meta.size);
    if (headOnly) return { status: 200, headers };
    return { status: 200, headers, body: await this.store.read(meta, bucket) };
  }

  private async deleteObjects(bucket: string, request: EdgeRequest): Promise<EdgeResponse> {
    this.requireBucket(bucket);
    const { payload } = readPayload(request);
    const doc = parseXmlBody(payload).Delete as { Object?: { Key?: unknown }[]; Quiet?: unknown } | undefined;
    const objects = doc?.Object ?? [];
    if (!doc || objects.length === 0 || objects.length > 1000) {
      throw new AwsServiceError('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema (1 to 1000 Object elements)');
    }
    const quiet = String(doc.Quiet ?? '').trim() === 'true';
    let result = '';
    for (const object of objects) {
      const key = typeof object.Key === 'string' ? object.Key : undefined;
      if (key === undefined || key === '' || Buffer.byteLength(key) > MAX_KEY_BYTES) {
        result += `<Error>${el('Key', key ?? '')}${el('Code', 'InvalidArgument')}${el('Message', 'Invalid key')}</Error>`;
        continue;
      }
      await this.store.delete(bucket, key);
      if (!quiet) result += `<Deleted>${el('Key', key)}</Deleted>`;
    }
    return xmlResponse(xmlDocument('DeleteResult', result));
  }

  private async copyObject(bucket: string, key: string, request: EdgeRequest): Promise<EdgeResponse> {
    this.requireBucket(bucket);
    const source = parseCopySource(header(request, 'x-amz-copy-source') ?? '');
    this.requireBucket(source.bucket);
    const sourceMeta = this.store.head(source.bucket, source.key);
    if (!sourceMeta) throw new AwsServiceError('NoSuchKey', 'The specified key does not exist.', 404);
    const ifMatch = header(request, 'x-amz-copy-source-if-match');
    const ifNoneMatch = header(request, 'x-amz-copy-source-if-none-match');
    if (ifMatch !== undefined && !etagMatches(ifMatch, sourceMeta.etag)) throw preconditionFailed('x-amz-copy-source-If-Match');
    if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, sourceMeta.etag)) throw preconditionFailed('x-amz-copy-source-If-None-Match');
    const replace = (header(request, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase() === 'REPLACE';
    if (!replace && source.bucket === bucket && source.key === key) {
      throw new AwsServiceError(
        'InvalidRequest',
        'This copy request is illegal because it is trying to copy an object to itself without changing the object\'s metadata, storage class, website redirect location or encryption attributes.',
      );
    }
    const body = await this.store.read(sourceMeta, source.bucket);
    const meta = await this.commitBody(bucket, key, body, {
      lastModified: this.now(),
      contentType: replace ? (header(request, 'content-type') ?? 'application/octet-stream') : sourceMeta.contentType,
      headers: replace ? representationHeaders(request) : sourceMeta.headers,
      userMetadata: replace ? userMetadata(request) : sourceMeta.userMetadata,
      checksums: sourceMeta.partsCount === undefined ? sourceMeta.checksums : {},
    });
    return xmlResponse(xmlDocument('CopyObjectResult', el('ETag', meta.etag) + el('LastModified', iso(meta.lastModified))));
  }

  // ---- multipart -----------------------------------------------------------------------------

  private async createMultipartUpload(bucket: string, key: string, request: EdgeRequest): Promise<EdgeResponse> {
    this.requireBucket(bucket);
    const uploadId = randomBytes(24).toString('hex');
    const upload: MultipartUpload = {
      bucket,
      key,
      contentType: header(request, 'content-type') ?? 'application/octet-stream',
      headers: representationHeaders(request),
      userMetadata: userMetadata(request),
      initiated: this.now(),
    };
    const dir = join(this.multipartDir, uploadId);
    mkdirSync(dir, { recursive: true });
    await writeFile(join(dir, 'upload.json'), JSON.stringify(upload));
    return xmlResponse(xmlDocument('InitiateMultipartUploadResult', el('Bucket', bucket) + el('Key', key) + el('UploadId', uploadId)));
  }

  private async uploadPart(bucket: string, key: string, uploadId: string, request: EdgeRequest): Promise<EdgeResponse> {
    const dir = await this.requireUpload(bucket, key, uploadId);
    const partNumber = Number(request.query.get('partNumber'));
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000) {
      throw new AwsServiceError('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive');
    }
    const { payload, checksums } = readPayload(request);
    const etag = md5Etag(payload);
    // Part data, then its record, each renamed into place: Complete checks the record's ETag.
    await writeFile(join(dir, `${partNumber}.part.tmp`), payload);
    await rename(join(dir, `${partNumber}.part.tmp`), join(dir, `${partNumber}.part`));
    await writeFile(join(dir, `${partNumber}.json.tmp`), JSON.stringify({ etag, size: payload.length } satisfies PartInfo));
    await rename(join(dir, `${partNumber}.json.tmp`), join(dir, `${partNumber}.json`));
    return { status: 200, headers: { etag, ...checksumHeaders(checksums) } };
  }

  private async completeMultipartUpload(bucket: string, key: string, uploadId: string, request: EdgeRequest): Promise<EdgeResponse> {
    const dir = await this.requireUpload(bucket, key, uploadId);
    const upload = JSON.parse(await readFile(join(dir, 'upload.json'), 'utf8')) as MultipartUpload;
    const doc = parseXmlBody(readPayload(request).payload).CompleteMultipartUpload as { Part?: { PartNumber?: unknown; ETag?: unknown }[] } | undefined;
    const requested = doc?.Part ?? [];
    if (requested.length === 0) throw new AwsServiceError('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema (no Part elements)');
    const files: string[] = [];
    const digests: Buffer[] = [];
    const numbers = requested.map((part) => Number(part.PartNumber));
    if (numbers.some((n, i) => !Number.isInteger(n) || n < 1 || (i > 0 && n <= (numbers[i - 1] ?? 0)))) {
      throw new AwsServiceError('InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.');
    }
    for (const [index, part] of requested.entries()) {
      const number = Number(part.PartNumber);
      let info: PartInfo;
      try {
        info = JSON.parse(await readFile(join(dir, `${number}.json`), 'utf8')) as PartInfo;
      } catch {
        throw invalidPart(number);
      }
      if (!existsSync(join(dir, `${number}.part`)) || unquote(String(part.ETag ?? '')) !== unquote(info.etag)) throw invalidPart(number);
      if (index < requested.length - 1 && info.size < MIN_PART_BYTES) {
        throw new AwsServiceError('EntityTooSmall', `Your proposed upload is smaller than the minimum allowed size: part ${number} is ${info.size} bytes, each part but the last must be at least 5 MiB`);
      }
      files.push(join(dir, `${number}.part`));
      digests.push(Buffer.from(unquote(info.etag), 'hex'));
    }
    const etag = `"${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${files.length}"`;
    const temp = await this.store.writeTemp(files);
    const meta = await this.store.commit(bucket, key, temp, {
      etag,
      lastModified: this.now(),
      contentType: upload.contentType,
      headers: upload.headers,
      userMetadata: upload.userMetadata,
      checksums: {},
      partsCount: files.length,
    });
    await rm(dir, { recursive: true, force: true });
    const location = `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
    return xmlResponse(xmlDocument('CompleteMultipartUploadResult', el('Location', location) + el('Bucket', bucket) + el('Key', key) + el('ETag', meta.etag)));
  }

  private async abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<EdgeResponse> {
    const dir = await this.requireUpload(bucket, key, uploadId);
    await rm(dir, { recursive: true, force: true });
    return { status: 204 };
  }

  private async requireUpload(bucket: string, key: string, uploadId: string): Promise<string> {
    this.requireBucket(bucket);
    const noSuchUpload = new AwsServiceError(
      'NoSuchUpload',
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
      404,
    );
    if (!/^[0-9a-f]{48}$/.test(uploadId)) throw noSuchUpload;
    const dir = join(this.multipartDir, uploadId);
    let upload: MultipartUpload;
    try {
      upload = JSON.parse(await readFile(join(dir, 'upload.json'), 'utf8')) as MultipartUpload;
    } catch {
      throw noSuchUpload;
    }
    if (upload.bucket !== bucket || upload.key !== key) throw noSuchUpload;
    return dir;
  }

  /** Upload ids in progress (for tests and housekeeping). */
  async pendingUploads(): Promise<string[]> {
    return readdir(this.multipartDir);
  }

  private requireBucket(bucket: string): void {
    if (!this.store.hasBucket(bucket)) throw new AwsServiceError('NoSuchBucket', 'The specified bucket does not exist', 404);
  }

  /** S3 keeps Last-Modified to the second. */
  private now(): number {
    return Math.floor(this.clock.now() / 1000) * 1000;
  }
}

// ---- request helpers ---------------------------------------------------------------------------

type Cursor = { after: string; prefix: boolean };

function parsePath(rawPath: string): ParsedPath {
  const path = rawPath.startsWith('/') ? rawPath.slice(1) : rawPath;
  if (path === '') return { bucket: undefined, key: undefined };
  const slash = path.indexOf('/');
  const rawBucket = slash < 0 ? path : path.slice(0, slash);
  const rawKey = slash < 0 ? '' : path.slice(slash + 1);
  try {
    const key = decodeURIComponent(rawKey);
    return { bucket: decodeURIComponent(rawBucket), key: key === '' ? undefined : key };
  } catch {
    throw new AwsServiceError('InvalidURI', 'Couldn\'t parse the specified URI.');
  }
}

function header(request: EdgeRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** The request body with aws-chunked framing removed, checksums verified where Node can compute them. */
function readPayload(request: EdgeRequest): { payload: Buffer; checksums: Record<string, string> } {
  let payload = request.body;
  const checksums: Record<string, string> = {};
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    const value = header(request, `x-amz-checksum-${algorithm}`);
    if (value !== undefined) checksums[algorithm] = value;
  }
  if (isAwsChunked(request.headers)) {
    const declared = header(request, 'x-amz-decoded-content-length');
    const decoded = decodeAwsChunked(payload, declared === undefined ? undefined : Number(declared));
    payload = decoded.payload;
    for (const [name, value] of Object.entries(decoded.trailers)) {
      const algorithm = name.startsWith('x-amz-checksum-') ? name.slice('x-amz-checksum-'.length) : undefined;
      if (algorithm && (CHECKSUM_ALGORITHMS as readonly string[]).includes(algorithm)) checksums[algorithm] = value;
    }
  } else {
    const sha = header(request, 'x-amz-content-sha256');
    if (sha && /^[0-9a-f]{64}$/.test(sha) && createHash('sha256').update(payload).digest('hex') !== sha) {
      throw new AwsServiceError('XAmzContentSHA256Mismatch', 'The provided \'x-amz-content-sha256\' header does not match what was computed.');
    }
  }
  const contentMd5 = header(request, 'content-md5');
  if (contentMd5 !== undefined) {
    if (!/^[A-Za-z0-9+/]{22}==$/.test(contentMd5)) throw new AwsServiceError('InvalidDigest', 'The Content-MD5 you specified was invalid.');
    if (createHash('md5').update(payload).digest('base64') !== contentMd5) {
      throw new AwsServiceError('BadDigest', 'The Content-MD5 you specified did not match what we received.');
    }
  }
  for (const [algorithm, value] of Object.entries(checksums)) {
    const computed = computeChecksum(algorithm, payload);
    if (computed !== undefined && computed !== value) {
      throw new AwsServiceError('BadDigest', `The ${algorithm.toUpperCase()} you specified did not match the calculated checksum.`);
    }
  }
  return { payload, checksums };
}

/** Base64 checksum for the algorithms Node computes natively; CRC32C/CRC64NVME are stored unverified. */
function computeChecksum(algorithm: string, payload: Buffer): string | undefined {
  switch (algorithm) {
    case 'crc32': {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(crc32(payload) >>> 0);
      return out.toString('base64');
    }
    case 'sha1':
    case 'sha256':
      return createHash(algorithm).update(payload).digest('base64');
    default:
      return undefined;
  }
}

function checksumHeaders(checksums: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [algorithm, value] of Object.entries(checksums)) out[`x-amz-checksum-${algorithm}`] = value;
  return out;
}

function representationHeaders(request: EdgeRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of STORED_HEADERS) {
    const value = header(request, name);
    if (value !== undefined) out[name] = value;
  }
  const encoding = storedContentEncoding(header(request, 'content-encoding'));
  if (encoding !== undefined) out['content-encoding'] = encoding;
  return out;
}

function userMetadata(request: EdgeRequest): Record<string, string> {
  const out: Record<string, string> = {};
  let bytes = 0;
  for (const [name, value] of Object.entries(request.headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
    const text = Array.isArray(value) ? value.join(',') : value;
    const short = name.slice('x-amz-meta-'.length);
    out[short] = text;
    bytes += Buffer.byteLength(short) + Buffer.byteLength(text);
  }
  if (bytes > 2048) throw new AwsServiceError('MetadataTooLarge', `Your metadata headers exceed the maximum allowed metadata size (${bytes} of 2048 bytes)`);
  return out;
}

function parseCopySource(value: string): { bucket: string; key: string } {
  const invalid = new AwsServiceError('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey');
  const withoutVersion = value.split('?')[0] ?? '';
  let decoded: string;
  try {
    decoded = decodeURIComponent(withoutVersion);
  } catch {
    throw invalid;
  }
  const path = decoded.startsWith('/') ? decoded.slice(1) : decoded;
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1) throw invalid;
  return { bucket: path.slice(0, slash), key: path.slice(slash + 1) };
}

/** 200, 304 (not modified) or 412 (precondition failed), per S3's documented precedence. */
function evaluateConditions(request: EdgeRequest, meta: ObjectMeta): 200 | 304 | 412 {
  const ifMatch = header(request, 'if-match');
  const ifUnmodifiedSince = header(request, 'if-unmodified-since');
  const ifNoneMatch = header(request, 'if-none-match');
  const ifModifiedSince = header(request, 'if-modified-since');
  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, meta.etag)) return 412;
  } else if (ifUnmodifiedSince !== undefined) {
    const since = Date.parse(ifUnmodifiedSince);
    if (!Number.isNaN(since) && meta.lastModified > since) return 412;
  }
  if (ifNoneMatch !== undefined) {
    if (etagMatches(ifNoneMatch, meta.etag)) return 304;
  } else if (ifModifiedSince !== undefined) {
    const since = Date.parse(ifModifiedSince);
    if (!Number.isNaN(since) && meta.lastModified <= since) return 304;
  }
  return 200;
}

function etagMatches(condition: string, etag: string): boolean {
  return condition.split(',').some((candidate) => {
    const c = candidate.trim().replace(/^W\//, '');
    return c === '*' || unquote(c) === unquote(etag);
  });
}

/** Single byte range; an unsatisfiable one is `InvalidRange` (416); a malformed one is ignored, as S3 does. */
function parseRange(value: string | undefined, size: number): { start: number; end: number } | undefined {
  if (value === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const unsatisfiable = new AwsServiceError('InvalidRange', `The requested range "${value}" is not satisfiable for an object of ${size} bytes`, 416);
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) throw unsatisfiable;
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (match[2] !== '' && Number(match[2]) < start) return undefined;
  if (start >= size) throw unsatisfiable;
  return { start, end };
}

function parseMaxKeys(value: string | null): number {
  if (value === null) return 1000;
  if (!/^\d+$/.test(value)) throw new AwsServiceError('InvalidArgument', `Provided max-keys not an integer or within integer range: ${value}`);
  return Math.min(Number(value), 1000);
}

function encodeToken(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64');
}

function decodeToken(token: string): Cursor {
  try {
    const cursor = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as Partial<Cursor>;
    if (typeof cursor.after === 'string' && typeof cursor.prefix === 'boolean') return { after: cursor.after, prefix: cursor.prefix };
  } catch {
    // fall through
  }
  throw new AwsServiceError('InvalidArgument', 'The continuation token provided is incorrect');
}

function urlEncoder(encodingType: string | null): (value: string) => string {
  if (encodingType === null) return (value) => value;
  if (encodingType !== 'url') throw new AwsServiceError('InvalidArgument', `Invalid Encoding Method specified in Request: ${encodingType}`);
  return (value) => encodeURIComponent(value).replace(/%2F/g, '/');
}

function contentsXml(meta: ObjectMeta, encode: (value: string) => string, owner: boolean): string {
  const algorithm = Object.keys(meta.checksums)[0];
  return (
    '<Contents>' +
    el('Key', encode(meta.key)) +
    el('LastModified', iso(meta.lastModified)) +
    el('ETag', meta.etag) +
    (algorithm ? el('ChecksumAlgorithm', algorithm.toUpperCase()) : '') +
    el('Size', meta.size) +
    (owner ? `<Owner>${el('ID', OWNER.id)}${el('DisplayName', OWNER.name)}</Owner>` : '') +
    el('StorageClass', 'STANDARD') +
    '</Contents>'
  );
}

function validateBucketName(name: string): void {
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) || name.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(name)) {
    throw new AwsServiceError('InvalidBucketName', `The specified bucket is not valid: "${name}" (3-63 lowercase letters, digits, dots and hyphens)`);
  }
}

function validateKey(key: string): void {
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new AwsServiceError('KeyTooLongError', `Your key is too long: ${Buffer.byteLength(key)} bytes, at most ${MAX_KEY_BYTES}`);
}

function md5Etag(body: Buffer): string {
  return `"${createHash('md5').update(body).digest('hex')}"`;
}

function unquote(etag: string): string {
  return etag.trim().replace(/^"|"$/g, '');
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

function preconditionFailed(condition: string): AwsServiceError {
  return new AwsServiceError('PreconditionFailed', `At least one of the pre-conditions you specified did not hold (${condition})`, 412);
}

function invalidPart(number: number): AwsServiceError {
  return new AwsServiceError('InvalidPart', `One or more of the specified parts could not be found (part ${number}); the part may not have been uploaded, or the specified entity tag may not match the part's entity tag.`);
}

function notImplemented(what: string): AwsServiceError {
  return new AwsServiceError('NotImplemented', `The local S3 emulator does not implement ${what}`, 501);
}

function xmlResponse(body: string, status = 200): EdgeResponse {
  return { status, headers: { 'content-type': 'application/xml' }, body };
}

function errorResponse(error: AwsServiceError, request: EdgeRequest): EdgeResponse {
  const requestId = randomBytes(8).toString('hex').toUpperCase();
  const headers: Record<string, string> = { 'content-type': 'application/xml', 'x-amz-request-id': requestId };
  // HEAD responses carry no body, so the SDK maps them by status (404 → NotFound).
  if (request.method.toUpperCase() === 'HEAD') return { status: error.status, headers };
  let resource = '';
  try {
    const { bucket, key } = parsePath(request.rawPath);
    if (key !== undefined && error.code === 'NoSuchKey') resource = el('Key', key);
    else if (bucket !== undefined && error.code.includes('Bucket')) resource = el('BucketName', bucket);
  } catch {
    // The path itself was the problem; nothing more to report.
  }
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${el('Code', error.code)}${el('Message', error.message)}${resource}${el('RequestId', requestId)}</Error>`;
  return { status: error.status, headers, body };
}
