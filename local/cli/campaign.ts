/**
 * Campaign batches for `imagegen start`: the campaign file format of `events/samples.ts` (requests
 * with the outcome each must reach), a bare JSON array of request details, or synthetic requests.
 */
import { readFile } from 'node:fs/promises';
import { campaignSchema, type Expectation } from '../../events/samples';

export interface CampaignRequest {
  /** The `detail` of an "Image Generation Requested" event, sent as is (even if invalid). */
  readonly detail: Record<string, unknown>;
  readonly expect: Expectation;
}

export interface CampaignBatch {
  readonly source: string;
  readonly requests: readonly CampaignRequest[];
}

const DEFAULT_SOURCE = 'campaign.rehearsal';

export async function loadCampaign(file: string): Promise<CampaignBatch> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read campaign file ${file}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (Array.isArray(parsed)) {
    if (parsed.length === 0) throw new Error(`campaign file ${file} holds an empty array`);
    return {
      source: DEFAULT_SOURCE,
      requests: parsed.map((detail: unknown, i) => {
        if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) throw new Error(`${file} entry ${i + 1} must be a JSON object (a request detail)`);
        return { detail: detail as Record<string, unknown>, expect: { outcome: 'succeeded' } };
      }),
    };
  }
  const campaign = campaignSchema.safeParse(parsed);
  if (!campaign.success) {
    const issues = campaign.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`campaign file ${file} is not a campaign (see events/samples/campaign.json): ${issues}`);
  }
  return { source: campaign.data.source, requests: campaign.data.requests };
}

const SUBJECTS = ['a lighthouse at dawn', 'a red bicycle in the rain', 'a bowl of ramen', 'a mountain cabin', 'a koi pond', 'a city skyline at night', 'a vintage camera', 'a field of sunflowers'];
const STYLES = ['watercolour', 'studio photo', 'isometric illustration', 'oil painting', 'paper cut-out'];

/** `count` distinct valid requests, deterministic so a rerun is served from cache. */
export function syntheticCampaign(count: number): CampaignBatch {
  return {
    source: DEFAULT_SOURCE,
    requests: Array.from({ length: count }, (_, i) => ({
      detail: {
        requestId: `synthetic-${String(i + 1).padStart(5, '0')}`,
        prompt: `${SUBJECTS[i % SUBJECTS.length]}, ${STYLES[Math.floor(i / SUBJECTS.length) % STYLES.length]}`,
        seed: i + 1,
      },
      expect: { outcome: 'succeeded' as const },
    })),
  };
}

/** Whether an execution's end matches what the request expected (status, and error code if given). */
export function meetsExpectation(expect: Expectation, status: string, errorCode: string | undefined): boolean {
  if (expect.outcome === 'succeeded') return status === 'SUCCEEDED';
  return status === 'FAILED' && errorCode === expect.code;
}
