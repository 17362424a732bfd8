/**
 * ListObjectsV2 and ListObjects (V1) on the wire: query parameters, continuation tokens and
 * markers, URL encoding of keys, and the `ListBucketResult` document.
 */
import { AwsServiceError } from '../edge/errors';
import type { EdgeResponse } from '../edge/types';
import { listPage, type Cursor, type ObjectMeta } from './models';
import { parseMaxKeys } from './request';
import type { FileObjectStore } from './store';
import { el, ownerXml, xmlDocument, xmlResponse } from './xml';

export function listObjectsV2(store: FileObjectStore, bucket: string, q: URLSearchParams): EdgeResponse {
  const maxKeys = parseMaxKeys(q.get('max-keys'));
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const startAfter = q.get('start-after') ?? '';
  const token = q.get('continuation-token');
  const cursor = token !== null ? decodeToken(token) : { after: startAfter, prefix: false };
  const page = listPage(store.sortedKeys(bucket), (key) => store.head(bucket, key), prefix, delimiter, cursor, maxKeys);
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

export function listObjectsV1(store: FileObjectStore, bucket: string, q: URLSearchParams): EdgeResponse {
  const maxKeys = parseMaxKeys(q.get('max-keys'));
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const marker = q.get('marker') ?? '';
  const page = listPage(store.sortedKeys(bucket), (key) => store.head(bucket, key), prefix, delimiter, { after: marker, prefix: false }, maxKeys);
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
    el('LastModified', new Date(meta.lastModified).toISOString()) +
    el('ETag', meta.etag) +
    (algorithm ? el('ChecksumAlgorithm', algorithm.toUpperCase()) : '') +
    el('Size', meta.size) +
    (owner ? ownerXml() : '') +
    el('StorageClass', 'STANDARD') +
    '</Contents>'
  );
}
