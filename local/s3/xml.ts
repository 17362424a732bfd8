/** Small XML writing helpers for S3's REST-XML responses. */
import { XMLParser } from 'fast-xml-parser';
import { AwsServiceError } from '../edge/errors';
import type { EdgeResponse } from '../edge/types';

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/**
 * Unlike the shared escapeXml (local/shared/xml.ts), keeps every character: an S3 key may hold control
 * characters that XML 1.0 cannot carry, and clients read such keys back as they were written.
 */
export function escapeXml(value: string): string {
  return value.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

/** `<name>value</name>`; skipped when the value is undefined. */
export function el(name: string, value: string | number | boolean | undefined): string {
  if (value === undefined) return '';
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

export function xmlDocument(root: string, inner: string, xmlns = true): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root}${xmlns ? ` xmlns="${S3_XMLNS}"` : ''}>${inner}</${root}>`;
}

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  isArray: (name) => name === 'Object' || name === 'Part',
});

/** Parses a request body, raising S3's `MalformedXML` when it is not XML. */
export function parseXmlBody(body: Buffer): Record<string, unknown> {
  const text = body.toString('utf8').trim();
  if (!text.startsWith('<')) throw malformedXml();
  try {
    return parser.parse(text) as Record<string, unknown>;
  } catch {
    throw malformedXml();
  }
}

function malformedXml(): AwsServiceError {
  return new AwsServiceError('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
}

export function xmlResponse(body: string, status = 200): EdgeResponse {
  return { status, headers: { 'content-type': 'application/xml' }, body };
}

/** The owner S3 reports on buckets and listed objects (the local cloud's one account). */
export const OWNER = { id: '75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a', name: 'imagegen-local' };

export function ownerXml(): string {
  return `<Owner>${el('ID', OWNER.id)}${el('DisplayName', OWNER.name)}</Owner>`;
}
