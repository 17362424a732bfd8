/**
 * Typed access to the sample events under `events/<event>/samples/`. Every sample is validated
 * against its schema when loaded, so a sample that drifts from the contract fails loudly.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ERROR_CODES } from './contract';
import { failedEventSchema, type FailedEvent } from './image-generation-failed/schema';
import { parseRequestEvent, type RequestEvent } from './image-generation-requested/schema';
import { succeededEventSchema, type SucceededEvent } from './image-generation-succeeded/schema';

export interface SampleTypes {
  'image-generation-requested': RequestEvent;
  'image-generation-succeeded': SucceededEvent;
  'image-generation-failed': FailedEvent;
}
export type EventName = keyof SampleTypes;

const validators: { [K in EventName]: (json: unknown) => SampleTypes[K] } = {
  'image-generation-requested': (json) => {
    const parsed = parseRequestEvent(json);
    if (!parsed.ok) throw new Error(parsed.issues.join('; '));
    return json as RequestEvent;
  },
  'image-generation-succeeded': (json) => succeededEventSchema.parse(json),
  'image-generation-failed': (json) => failedEventSchema.parse(json),
};

/** The raw JSON of a sample, validated, as its event type (a fresh copy on every call). */
export function loadSample<K extends EventName>(event: K, name: string): SampleTypes[K] {
  const file = join(__dirname, event, 'samples', `${name}.json`);
  const json: unknown = JSON.parse(readFileSync(file, 'utf8'));
  try {
    validators[event](json);
  } catch (error) {
    throw new Error(`sample ${event}/${name} does not match its schema: ${(error as Error).message}`, { cause: error });
  }
  return json as SampleTypes[K];
}

export function sampleNames(event: EventName): string[] {
  return readdirSync(join(__dirname, event, 'samples'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** What a campaign run must observe for one request. */
export const expectationSchema = z.discriminatedUnion('outcome', [
  z.object({ outcome: z.literal('succeeded') }).strict(),
  z.object({ outcome: z.literal('failed'), code: z.enum(ERROR_CODES), message: z.string().optional() }).strict(),
]);
export type Expectation = z.infer<typeof expectationSchema>;

/**
 * `events/samples/campaign.json`: one PutEvents entry per request (`Source` = `source`,
 * `DetailType` = `detailType`, `Detail` = JSON of `detail`); `expect` and `note` are not sent.
 */
export const campaignSchema = z
  .object({
    description: z.string(),
    source: z.string(),
    detailType: z.string(),
    requests: z.array(z.object({ detail: z.record(z.string(), z.unknown()), expect: expectationSchema, note: z.string().optional() }).strict()).min(1),
  })
  .strict();
export type Campaign = z.infer<typeof campaignSchema>;

export function loadCampaign(file = join(__dirname, 'samples', 'campaign.json')): Campaign {
  return campaignSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
}

/** PutEvents entries for a campaign (at most 10 per call: batch them). */
export function campaignEntries(campaign: Campaign, eventBusName: string): { EventBusName: string; Source: string; DetailType: string; Detail: string }[] {
  return campaign.requests.map((r) => ({ EventBusName: eventBusName, Source: campaign.source, DetailType: campaign.detailType, Detail: JSON.stringify(r.detail) }));
}
