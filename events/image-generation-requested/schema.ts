/**
 * `Image Generation Requested`: the request event producers put on the bus (contract v1).
 * The detail is strict: unknown fields are rejected, not dropped.
 */
import { z } from 'zod';
import { DEFAULT_SUPPORTED_SIZES, REQUEST_DETAIL_TYPE, RESULT_SOURCE } from '../contract';
import { describeIssues, shown } from '../issues';

export const DETAIL_TYPE = REQUEST_DETAIL_TYPE;
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
export const PROMPT_MAX = 2000;
export const MAX_RENDITIONS = 8;
export const METADATA_MAX_BYTES = 4096;
export const EVENT_MAX_BYTES = 262144;
export const FORMATS = ['png', 'jpeg', 'webp', 'avif'] as const;
export type ImageFormat = (typeof FORMATS)[number];

export const DEFAULTS = {
  steps: 30,
  guidanceScale: 7,
  renditions: [
    { width: 512, format: 'webp' },
    { width: 256, format: 'jpeg' },
  ],
} as const;

const missing = (input: unknown) => input === undefined;

function int(min: number, max: number) {
  const message = (input: unknown) =>
    missing(input) ? 'is required' : `must be an integer from ${min} to ${max} (got ${shown(input)})`;
  return z
    .number({ error: (iss) => message(iss.input) })
    .int({ error: (iss) => message(iss.input) })
    .min(min, { error: (iss) => message(iss.input) })
    .max(max, { error: (iss) => message(iss.input) });
}

function num(min: number, max: number) {
  const message = (input: unknown) =>
    missing(input) ? 'is required' : `must be a number from ${min} to ${max} (got ${shown(input)})`;
  return z
    .number({ error: (iss) => message(iss.input) })
    .min(min, { error: (iss) => message(iss.input) })
    .max(max, { error: (iss) => message(iss.input) });
}

const requestId = z.string({ error: (iss) => (missing(iss.input) ? 'is required' : `must be a string (got ${shown(iss.input)})`) }).regex(REQUEST_ID_PATTERN, {
  error: (iss) => `must be 1 to 64 characters of A-Z, a-z, 0-9, ".", "_", ":" or "-" (got ${shown(iss.input)})`,
});

const prompt = z
  .string({ error: (iss) => (missing(iss.input) ? 'is required' : `must be a string (got ${shown(iss.input)})`) })
  .refine((s) => s.trim().length >= 1, { error: 'must not be empty or only whitespace' })
  .refine((s) => s.trim().length <= PROMPT_MAX, {
    error: (iss) => `must be at most ${PROMPT_MAX} characters after trimming (got ${String(iss.input).trim().length})`,
  });

const negativePrompt = z
  .string({ error: (iss) => `must be a string (got ${shown(iss.input)})` })
  .max(PROMPT_MAX, { error: (iss) => `must be at most ${PROMPT_MAX} characters (got ${String(iss.input).length})` });

export const renditionSchema = z
  .object({
    width: int(16, 2048),
    format: z.enum(FORMATS, { error: (iss) => `must be one of ${FORMATS.join(', ')} (got ${shown(iss.input)})` }),
    quality: int(1, 100).optional(),
  })
  .strict();

const metadata = z
  .record(z.string(), z.json(), { error: (iss) => `must be a JSON object (got ${shown(iss.input)})` })
  .refine((m) => Buffer.byteLength(JSON.stringify(m), 'utf8') <= METADATA_MAX_BYTES, {
    error: (iss) => `must be at most ${METADATA_MAX_BYTES} bytes as JSON (got ${Buffer.byteLength(JSON.stringify(iss.input), 'utf8')})`,
  });

const fields = {
  requestId,
  prompt,
  negativePrompt: negativePrompt.optional(),
  width: int(1, 65535).optional(),
  height: int(1, 65535).optional(),
  steps: int(1, 100).optional(),
  guidanceScale: num(0, 30).optional(),
  seed: int(0, 4294967295).optional(),
  renditions: z
    .array(renditionSchema, { error: (iss) => `must be an array of renditions (got ${shown(iss.input)})` })
    .max(MAX_RENDITIONS, { error: (iss) => `must list at most ${MAX_RENDITIONS} renditions (got ${(iss.input as unknown[]).length})` })
    .optional(),
  metadata: metadata.optional(),
};

/** The detail schema for a set of supported `WIDTHxHEIGHT` sizes (the first is the default). */
export function requestDetailSchema(supportedSizes: readonly string[] = DEFAULT_SUPPORTED_SIZES) {
  const [defaultSize] = supportedSizes;
  return z
    .object(fields)
    .strict()
    .superRefine((detail, ctx) => {
      const [dw, dh] = (defaultSize ?? '').split('x').map(Number);
      const size = `${detail.width ?? dw}x${detail.height ?? dh}`;
      if (!supportedSizes.includes(size)) {
        ctx.addIssue({
          code: 'custom',
          path: ['width'],
          message: `and height must be one of the supported sizes ${supportedSizes.join(', ')} (got ${size})`,
        });
      }
    });
}

export const requestDetailSchemaDefault = requestDetailSchema();
export type RequestDetail = z.infer<typeof requestDetailSchemaDefault>;
export type Rendition = z.infer<typeof renditionSchema>;

/** The EventBridge envelope. Not strict: EventBridge owns it and adds fields (e.g. `replay-name`). */
export const requestEventSchema = z.looseObject({
  version: z.string(),
  id: z.string(),
  'detail-type': z.literal(DETAIL_TYPE, { error: (iss) => `must be "${DETAIL_TYPE}" (got ${shown(iss.input)})` }),
  source: z
    .string({ error: (iss) => `must be a string (got ${shown(iss.input)})` })
    .min(1, { error: 'must not be empty' })
    .refine((s) => s !== RESULT_SOURCE, { error: `must not be "${RESULT_SOURCE}" (reserved for result events)` }),
  account: z.string(),
  time: z.iso.datetime({ offset: true, error: (iss) => `must be an ISO-8601 timestamp (got ${shown(iss.input)})` }),
  region: z.string(),
  resources: z.array(z.string()),
  detail: z.unknown(),
});
export interface RequestEvent {
  readonly version: string;
  readonly id: string;
  readonly 'detail-type': typeof DETAIL_TYPE;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: string[];
  readonly detail: RequestDetail;
  readonly [extra: string]: unknown;
}

export type ParseResult = { ok: true; event: RequestEvent } | { ok: false; issues: string[] };

/** Validates a whole request event; on failure, one actionable sentence per problem. */
export function parseRequestEvent(input: unknown, supportedSizes: readonly string[] = DEFAULT_SUPPORTED_SIZES): ParseResult {
  const size = Buffer.byteLength(JSON.stringify(input) ?? '', 'utf8');
  if (size > EVENT_MAX_BYTES) {
    return { ok: false, issues: [`the event must be at most ${EVENT_MAX_BYTES} bytes (256 KB) as JSON (got ${size})`] };
  }
  const envelope = requestEventSchema.safeParse(input);
  if (!envelope.success) return { ok: false, issues: describeIssues(envelope.error, 'event') };
  const detail = requestDetailSchema(supportedSizes).safeParse(envelope.data.detail);
  if (!detail.success) return { ok: false, issues: describeIssues(detail.error, 'detail') };
  return { ok: true, event: { ...envelope.data, detail: detail.data } };
}
