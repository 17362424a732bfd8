/** Campaign batches for `imagegen start`: a file of request details with expected outcomes, or synthetic ones. */
import { readFile } from 'node:fs/promises';

export interface CampaignRequest {
  /** The `detail` of an "Image Generation Requested" event, sent as is (even if invalid). */
  readonly detail: Record<string, unknown>;
  /** How the request should end. @default 'SUCCEEDED' */
  readonly expect: 'SUCCEEDED' | 'FAILED';
}

/**
 * Reads a campaign file: a JSON array (or `{ "requests": [...] }`) of entries, each either a bare
 * detail or `{ "detail": {...}, "expect": "succeeded" | "failed" }`.
 */
export async function loadCampaign(file: string): Promise<CampaignRequest[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read campaign file ${file}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const entries = Array.isArray(parsed) ? parsed : (parsed as { requests?: unknown }).requests;
  if (!Array.isArray(entries) || entries.length === 0) {
    throw new Error(`campaign file ${file} must hold a non-empty JSON array of requests (or {"requests": [...]})`);
  }
  return entries.map((entry: unknown, index) => toRequest(entry, `${file} entry ${index + 1}`));
}

function toRequest(entry: unknown, where: string): CampaignRequest {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new Error(`${where} must be a JSON object`);
  const record = entry as Record<string, unknown>;
  const hasDetail = typeof record.detail === 'object' && record.detail !== null;
  const detail = (hasDetail ? record.detail : record) as Record<string, unknown>;
  const rawExpect = hasDetail ? record.expect : undefined;
  const expectText = typeof rawExpect === 'object' && rawExpect !== null ? (rawExpect as { status?: unknown }).status : rawExpect;
  const expect = expectText === undefined ? 'SUCCEEDED' : String(expectText).toUpperCase();
  if (expect !== 'SUCCEEDED' && expect !== 'FAILED') throw new Error(`${where}: expect must be "succeeded" or "failed" (got ${JSON.stringify(rawExpect)})`);
  return { detail, expect };
}

const SUBJECTS = ['a lighthouse at dawn', 'a red bicycle in the rain', 'a bowl of ramen', 'a mountain cabin', 'a koi pond', 'a city skyline at night', 'a vintage camera', 'a field of sunflowers'];
const STYLES = ['watercolour', 'studio photo', 'isometric illustration', 'oil painting', 'paper cut-out'];

/** `count` distinct valid requests, deterministic so a rerun is served from cache. */
export function syntheticCampaign(count: number): CampaignRequest[] {
  return Array.from({ length: count }, (_, i) => ({
    detail: {
      requestId: `synthetic-${String(i + 1).padStart(5, '0')}`,
      prompt: `${SUBJECTS[i % SUBJECTS.length]}, ${STYLES[Math.floor(i / SUBJECTS.length) % STYLES.length]}`,
      seed: i + 1,
    },
    expect: 'SUCCEEDED' as const,
  }));
}
