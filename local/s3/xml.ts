/** Small XML writing helpers for S3's REST-XML responses. */
import { XMLParser } from 'fast-xml-parser';
import { AwsServiceError } from '../edge/errors';

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
