/**
 * S3's REST-XML operations, path-style (`/bucket/key`): routing by method, path and subresource,
 * bucket and object operations, and S3's XML error document. Listing is in listing.ts, multipart
 * uploads in multipart.ts, request reading in request.ts.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock';
import { AwsServiceError } from '../edge/errors';
import type { EdgeRequest, EdgeResponse, ServiceHandler } from '../edge/types';
import { listObjectsV1, listObjectsV2 } from './listing';
import { etagMatches, evaluateConditions, md5Etag, type NewObject, type ObjectMeta } from './models';
import { MultipartOperations } from './multipart';
import { S3_OPERATIONS, s3Operation } from './operations';
import {
  checksumHeaders,
  conditions,
  header,
  MAX_KEY_BYTES,
  parseCopySource,
  parsePath,
  parseRange,
  readPayload,
  representationHeaders,
  userMetadata,
  validateBucketName,
  validateKey,
} from './request';
import type { FileObjectStore } from './store';
import { el, escapeXml, ownerXml, parseXmlBody, S3_XMLNS, xmlDocument, xmlResponse } from './xml';

export interface S3ProviderDeps {
  readonly region: string;
  readonly clock: Clock;
  readonly store: FileObjectStore;
}

const NOT_EMULATED_SUBRESOURCES = [
  'acl', 'policy', 'cors', 'lifecycle', 'versioning', 'versions', 'tagging', 'website', 'logging', 'notification',
  'replication', 'encryption', 'object-lock', 'publicAccessBlock', 'ownershipControls', 'accelerate', 'analytics',
  'inventory', 'metrics', 'requestPayment', 'intelligent-tiering', 'legal-hold', 'retention', 'restore', 'select',
  'torrent', 'attributes', 'policyStatus',
];
const RESPONSE_OVERRIDES = [
  ['response-content-type', 'content-type'],
  ['response-content-language', 'content-language'],
  ['response-expires', 'expires'],
  ['response-cache-control', 'cache-control'],
  ['response-content-disposition', 'content-disposition'],
  ['response-content-encoding', 'content-encoding'],
] as const;

export class S3Provider {
  readonly handler: ServiceHandler;
  private readonly multipart: MultipartOperations;

  constructor(private readonly deps: S3ProviderDeps) {
    this.multipart = new MultipartOperations({ store: deps.store, requireBucket: (bucket) => this.requireBucket(bucket), now: () => this.now() });
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
      api: { operations: S3_OPERATIONS, operationOf: s3Operation, errorResponse },
    };
  }

  /** Throws NoSuchBucket. */
  requireBucket(bucket: string): void {
    if (!this.deps.store.hasBucket(bucket)) throw new AwsServiceError('NoSuchBucket', 'The specified bucket does not exist', 404);
  }

  /** Writes `payload` as `bucket/key`; the ETag is its MD5. */
  async commitBody(bucket: string, key: string, payload: Buffer, object: NewObject): Promise<ObjectMeta> {
    const temp = await this.deps.store.writeTemp(payload);
    return this.deps.store.commit(bucket, key, temp, { ...object, etag: md5Etag(payload) });
  }

  /** S3 keeps Last-Modified to the second. */
  now(): number {
    return Math.floor(this.deps.clock.now() / 1000) * 1000;
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
    if (key === undefined) return this.routeBucket(method, bucket, request);
    validateKey(key);
    const uploadId = q.get('uploadId');
    switch (method) {
      case 'PUT':
        if (uploadId !== null) {
          if (request.headers['x-amz-copy-source']) throw notImplemented('UploadPartCopy');
          return this.multipart.uploadPart(bucket, key, uploadId, request);
        }
        if (request.headers['x-amz-copy-source'] !== undefined) return this.copyObject(bucket, key, request);
        return this.putObject(bucket, key, request);
      case 'GET':
        if (uploadId !== null) throw notImplemented('ListParts');
        return this.getObject(bucket, key, request, false);
      case 'HEAD':
        return this.getObject(bucket, key, request, true);
      case 'DELETE':
        if (uploadId !== null) return this.multipart.abort(bucket, key, uploadId);
        this.requireBucket(bucket);
        await this.deps.store.delete(bucket, key);
        return { status: 204 };
      case 'POST':
        if (q.has('uploads')) return this.multipart.create(bucket, key, request);
        if (uploadId !== null) return this.multipart.complete(bucket, key, uploadId, request);
        break;
    }
    throw notImplemented(`${method} on an object`);
  }

  private async routeBucket(method: string, bucket: string, request: EdgeRequest): Promise<EdgeResponse> {
    const q = request.query;
    switch (method) {
      case 'PUT':
        return this.createBucket(bucket);
      case 'HEAD':
        this.requireBucket(bucket);
        return { status: 200, headers: { 'x-amz-bucket-region': this.deps.region } };
      case 'DELETE':
        this.requireBucket(bucket);
        if (!this.deps.store.isEmpty(bucket)) throw new AwsServiceError('BucketNotEmpty', 'The bucket you tried to delete is not empty', 409);
        await this.deps.store.deleteBucket(bucket);
        return { status: 204 };
      case 'POST':
        if (q.has('delete')) return this.deleteObjects(bucket, request);
        break;
      case 'GET':
        if (q.has('location')) return this.getBucketLocation(bucket);
        if (q.has('uploads')) throw notImplemented('ListMultipartUploads');
        this.requireBucket(bucket);
        return q.get('list-type') === '2' ? listObjectsV2(this.deps.store, bucket, q) : listObjectsV1(this.deps.store, bucket, q);
    }
    throw notImplemented(`${method} on a bucket`);
  }

  private getBucketLocation(bucket: string): EdgeResponse {
    this.requireBucket(bucket);
    // us-east-1 is reported as an empty LocationConstraint.
    const region = this.deps.region === 'us-east-1' ? '' : this.deps.region;
    return xmlResponse(`<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="${S3_XMLNS}">${escapeXml(region)}</LocationConstraint>`);
  }

  private listBuckets(q: URLSearchParams): EdgeResponse {
    const prefix = q.get('prefix') ?? '';
    const buckets = this.deps.store
      .bucketNames()
      .filter((b) => b.name.startsWith(prefix))
      .map((b) => `<Bucket>${el('Name', b.name)}${el('CreationDate', new Date(b.creationDate).toISOString())}${el('BucketRegion', this.deps.region)}</Bucket>`)
      .join('');
    return xmlResponse(xmlDocument('ListAllMyBucketsResult', `${ownerXml()}<Buckets>${buckets}</Buckets>`));
  }

  private createBucket(bucket: string): EdgeResponse {
    validateBucketName(bucket);
    // us-east-1 answers 200 when the caller already owns the bucket; other regions answer 409.
    if (this.deps.store.hasBucket(bucket) && this.deps.region !== 'us-east-1') {
      throw new AwsServiceError('BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', 409);
    }
    this.deps.store.createBucket(bucket, this.now());
    return { status: 200, headers: { location: `/${bucket}` } };
  }

  private async putObject(bucket: string, key: string, request: EdgeRequest): Promise<EdgeResponse> {
    this.requireBucket(bucket);
    const { payload, checksums } = readPayload(request);
    const ifNoneMatch = header(request, 'if-none-match');
    const ifMatch = header(request, 'if-match');
    const existing = this.deps.store.head(bucket, key);
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

  private async getObject(bucket: string, key: string, request: EdgeRequest, headOnly: boolean): Promise<EdgeResponse> {
    this.requireBucket(bucket);
    const meta = this.deps.store.head(bucket, key);
    if (!meta) throw new AwsServiceError('NoSuchKey', 'The specified key does not exist.', 404);
    const partNumber = request.query.get('partNumber');
    if (partNumber !== null && partNumber !== '1') throw new AwsServiceError('InvalidPartNumber', 'The requested partnumber is not satisfiable', 416);
    const base: Record<string, string> = { etag: meta.etag, 'last-modified': new Date(meta.lastModified).toUTCString() };
    const precondition = evaluateConditions(conditions(request), meta);
    if (precondition === 304) return { status: 304, headers: base };
    if (precondition === 412) throw preconditionFailed('If-Match');

    const headers: Record<string, string> = { ...base, 'content-type': meta.contentType, 'accept-ranges': 'bytes', ...meta.headers };
    for (const [name, value] of Object.entries(meta.userMetadata)) headers[`x-amz-meta-${name}`] = value;
    if (meta.partsCount !== undefined) headers['x-amz-mp-parts-count'] = String(meta.partsCount);
    for (const [param, name] of RESPONSE_OVERRIDES) {
      const value = request.query.get(param);
      if (value !== null) headers[name] = value;
    }
    const range = parseRange(header(request, 'range'), meta.size);
    if (range) {
      headers['content-range'] = `bytes ${range.start}-${range.end}/${meta.size}`;
      headers['content-length'] = String(range.end - range.start + 1);
      const body = headOnly ? undefined : await this.deps.store.read(meta, bucket, range);
      return { status: 206, headers, ...(body ? { body } : {}) };
    }
    // Full-object checksums only, and only when asked for (the SDK then validates them).
    if (header(request, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED') Object.assign(headers, checksumHeaders(meta.checksums));
    headers['content-length'] = String(meta.size);
    if (headOnly) return { status: 200, headers };
    return { status: 200, headers, body: await this.deps.store.read(meta, bucket) };
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
      await this.deps.store.delete(bucket, key);
      if (!quiet) result += `<Deleted>${el('Key', key)}</Deleted>`;
    }
    return xmlResponse(xmlDocument('DeleteResult', result));
  }

  private async copyObject(bucket: string, key: string, request: EdgeRequest): Promise<EdgeResponse> {
    this.requireBucket(bucket);
    const source = parseCopySource(header(request, 'x-amz-copy-source') ?? '');
    this.requireBucket(source.bucket);
    const sourceMeta = this.deps.store.head(source.bucket, source.key);
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
    const body = await this.deps.store.read(sourceMeta, source.bucket);
    const meta = await this.commitBody(bucket, key, body, {
      lastModified: this.now(),
      contentType: replace ? (header(request, 'content-type') ?? 'application/octet-stream') : sourceMeta.contentType,
      headers: replace ? representationHeaders(request) : sourceMeta.headers,
      userMetadata: replace ? userMetadata(request) : sourceMeta.userMetadata,
      checksums: sourceMeta.partsCount === undefined ? sourceMeta.checksums : {},
    });
    return xmlResponse(xmlDocument('CopyObjectResult', el('ETag', meta.etag) + el('LastModified', new Date(meta.lastModified).toISOString())));
  }
}

function preconditionFailed(condition: string): AwsServiceError {
  return new AwsServiceError('PreconditionFailed', `At least one of the pre-conditions you specified did not hold (${condition})`, 412);
}

function notImplemented(what: string): AwsServiceError {
  return new AwsServiceError('NotImplemented', `The local S3 emulator does not implement ${what}`, 501);
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
