/**
 * Which S3 operation a path-style request calls, by the S3 API's names: what a fault rule's
 * `operation` matches. Mirrors the provider's routing (method, bucket or key, subresource).
 */
import type { EdgeRequest } from '../edge/types';
import { parsePath } from './request';

export const S3_OPERATIONS = [
  'ListBuckets',
  'CreateBucket',
  'HeadBucket',
  'DeleteBucket',
  'GetBucketLocation',
  'ListObjects',
  'ListObjectsV2',
  'DeleteObjects',
  'PutObject',
  'CopyObject',
  'GetObject',
  'HeadObject',
  'DeleteObject',
  'CreateMultipartUpload',
  'UploadPart',
  'CompleteMultipartUpload',
  'AbortMultipartUpload',
] as const;

export type S3Operation = (typeof S3_OPERATIONS)[number];

export function s3Operation(request: EdgeRequest): S3Operation | undefined {
  let path: { bucket: string | undefined; key: string | undefined };
  try {
    path = parsePath(request.rawPath);
  } catch {
    return undefined;
  }
  const q = request.query;
  const method = request.method.toUpperCase();
  if (path.bucket === undefined) return method === 'GET' ? 'ListBuckets' : undefined;
  if (path.key === undefined) return bucketOperation(method, q);
  const upload = q.has('uploadId');
  switch (method) {
    case 'PUT':
      if (upload) return 'UploadPart';
      return request.headers['x-amz-copy-source'] === undefined ? 'PutObject' : 'CopyObject';
    case 'GET':
      return upload ? undefined : 'GetObject';
    case 'HEAD':
      return 'HeadObject';
    case 'DELETE':
      return upload ? 'AbortMultipartUpload' : 'DeleteObject';
    case 'POST':
      if (q.has('uploads')) return 'CreateMultipartUpload';
      return upload ? 'CompleteMultipartUpload' : undefined;
  }
  return undefined;
}

function bucketOperation(method: string, q: URLSearchParams): S3Operation | undefined {
  switch (method) {
    case 'PUT':
      return 'CreateBucket';
    case 'HEAD':
      return 'HeadBucket';
    case 'DELETE':
      return 'DeleteBucket';
    case 'POST':
      return q.has('delete') ? 'DeleteObjects' : undefined;
    case 'GET':
      if (q.has('location')) return 'GetBucketLocation';
      if (q.has('uploads')) return undefined;
      return q.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
  }
  return undefined;
}
