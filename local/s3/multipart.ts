/**
 * Multipart uploads on the wire: CreateMultipartUpload, UploadPart, CompleteMultipartUpload (parts
 * in ascending order, each but the last at least 5 MiB, ETags as uploaded) and AbortMultipartUpload.
 */
import { randomBytes } from 'node:crypto';
import { AwsServiceError } from '../edge/errors';
import type { EdgeRequest, EdgeResponse } from '../edge/types';
import { md5Etag, MIN_PART_BYTES, multipartEtag, unquote, type MultipartUpload } from './models';
import { checksumHeaders, header, readPayload, representationHeaders, userMetadata } from './request';
import type { FileObjectStore } from './store';
import { el, parseXmlBody, xmlDocument, xmlResponse } from './xml';

export interface MultipartDeps {
  readonly store: FileObjectStore;
  /** Throws NoSuchBucket. */
  readonly requireBucket: (bucket: string) => void;
  /** Epoch ms, to the second. */
  readonly now: () => number;
}

export class MultipartOperations {
  constructor(private readonly deps: MultipartDeps) {}

  async create(bucket: string, key: string, request: EdgeRequest): Promise<EdgeResponse> {
    this.deps.requireBucket(bucket);
    const uploadId = randomBytes(24).toString('hex');
    await this.deps.store.createUpload(uploadId, {
      bucket,
      key,
      contentType: header(request, 'content-type') ?? 'application/octet-stream',
      headers: representationHeaders(request),
      userMetadata: userMetadata(request),
      initiated: this.deps.now(),
    });
    return xmlResponse(xmlDocument('InitiateMultipartUploadResult', el('Bucket', bucket) + el('Key', key) + el('UploadId', uploadId)));
  }

  async uploadPart(bucket: string, key: string, uploadId: string, request: EdgeRequest): Promise<EdgeResponse> {
    await this.requireUpload(bucket, key, uploadId);
    const partNumber = Number(request.query.get('partNumber'));
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000) {
      throw new AwsServiceError('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive');
    }
    const { payload, checksums } = readPayload(request);
    const etag = md5Etag(payload);
    await this.deps.store.putPart(uploadId, partNumber, payload, { etag, size: payload.length });
    return { status: 200, headers: { etag, ...checksumHeaders(checksums) } };
  }

  async complete(bucket: string, key: string, uploadId: string, request: EdgeRequest): Promise<EdgeResponse> {
    const upload = await this.requireUpload(bucket, key, uploadId);
    const doc = parseXmlBody(readPayload(request).payload).CompleteMultipartUpload as { Part?: { PartNumber?: unknown; ETag?: unknown }[] } | undefined;
    const requested = doc?.Part ?? [];
    if (requested.length === 0) throw new AwsServiceError('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema (no Part elements)');
    const numbers = requested.map((part) => Number(part.PartNumber));
    if (numbers.some((n, i) => !Number.isInteger(n) || n < 1 || (i > 0 && n <= (numbers[i - 1] ?? 0)))) {
      throw new AwsServiceError('InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.');
    }
    const files: string[] = [];
    const etags: string[] = [];
    for (const [index, part] of requested.entries()) {
      const number = Number(part.PartNumber);
      const stored = await this.deps.store.part(uploadId, number);
      if (!stored || unquote(String(part.ETag ?? '')) !== unquote(stored.info.etag)) throw invalidPart(number);
      if (index < requested.length - 1 && stored.info.size < MIN_PART_BYTES) {
        throw new AwsServiceError('EntityTooSmall', `Your proposed upload is smaller than the minimum allowed size: part ${number} is ${stored.info.size} bytes, each part but the last must be at least 5 MiB`);
      }
      files.push(stored.file);
      etags.push(stored.info.etag);
    }
    const temp = await this.deps.store.writeTemp(files);
    const meta = await this.deps.store.commit(bucket, key, temp, {
      etag: multipartEtag(etags),
      lastModified: this.deps.now(),
      contentType: upload.contentType,
      headers: upload.headers,
      userMetadata: upload.userMetadata,
      checksums: {},
      partsCount: files.length,
    });
    await this.deps.store.deleteUpload(uploadId);
    const location = `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
    return xmlResponse(xmlDocument('CompleteMultipartUploadResult', el('Location', location) + el('Bucket', bucket) + el('Key', key) + el('ETag', meta.etag)));
  }

  async abort(bucket: string, key: string, uploadId: string): Promise<EdgeResponse> {
    await this.requireUpload(bucket, key, uploadId);
    await this.deps.store.deleteUpload(uploadId);
    return { status: 204 };
  }

  private async requireUpload(bucket: string, key: string, uploadId: string): Promise<MultipartUpload> {
    this.deps.requireBucket(bucket);
    const noSuchUpload = new AwsServiceError(
      'NoSuchUpload',
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
      404,
    );
    if (!/^[0-9a-f]{48}$/.test(uploadId)) throw noSuchUpload;
    const upload = await this.deps.store.upload(uploadId);
    if (!upload || upload.bucket !== bucket || upload.key !== key) throw noSuchUpload;
    return upload;
  }
}

function invalidPart(number: number): AwsServiceError {
  return new AwsServiceError('InvalidPart', `One or more of the specified parts could not be found (part ${number}); the part may not have been uploaded, or the specified entity tag may not match the part's entity tag.`);
}
