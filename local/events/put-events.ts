/**
 * PutEvents: the request's wire entries, AWS's request-level limits and per-entry results. The API
 * and the in-process `EventBusPort` share this path, so both validate exactly alike.
 */
import type { Partition } from '../arns';
import type { Clock } from '../clock';
import type { EventBusPort } from '../ports';
import type { Dispatcher } from './dispatcher';
import { validation } from './errors';
import { busNameOf, newEnvelope } from './models';
import type { EventsStore } from './store';

export type PutEventsEntry = Parameters<EventBusPort['putEvents']>[0][number];
export type PutEventsResultEntry = { EventId?: string; ErrorCode?: string; ErrorMessage?: string };
export interface PutEventsResult {
  readonly FailedEntryCount: number;
  readonly Entries: PutEventsResultEntry[];
}

export interface PutEventsDeps {
  readonly partition: Partition;
  readonly clock: Clock;
  readonly store: EventsStore;
  readonly dispatcher: Dispatcher;
  readonly log: (line: string) => void;
}

const MAX_PUT_EVENTS_BYTES = 256 * 1024;

/** The JSON body's `Entries` as the port's entries (`Time` in epoch seconds or ISO text). */
export function wireEntries(input: Readonly<Record<string, unknown>>): PutEventsEntry[] {
  const entries = input.Entries;
  if (!Array.isArray(entries)) throw validation("1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null");
  return entries.map((item: unknown): PutEventsEntry => {
    const raw = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const time = raw.Time;
    return {
      ...(typeof raw.Source === 'string' ? { Source: raw.Source } : {}),
      ...(typeof raw.DetailType === 'string' ? { DetailType: raw.DetailType } : {}),
      ...(typeof raw.Detail === 'string' ? { Detail: raw.Detail } : {}),
      ...(typeof raw.EventBusName === 'string' ? { EventBusName: raw.EventBusName } : {}),
      ...(Array.isArray(raw.Resources) ? { Resources: raw.Resources as string[] } : {}),
      ...(typeof time === 'number' ? { Time: new Date(time * 1000) } : typeof time === 'string' ? { Time: new Date(time) } : {}),
    };
  });
}

export function putEvents(entries: readonly PutEventsEntry[], deps: PutEventsDeps): PutEventsResult {
  if (entries.length < 1 || entries.length > 10) {
    throw validation(
      `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length ${entries.length < 1 ? 'greater than or equal to 1' : 'less than or equal to 10'} (got ${entries.length})`,
    );
  }
  const total = entries.reduce((sum, entry) => sum + entrySize(entry), 0);
  if (total > MAX_PUT_EVENTS_BYTES) {
    throw validation(`Total size of the entries in the request is over the limit: ${total} bytes, the maximum is ${MAX_PUT_EVENTS_BYTES} (256 KB)`);
  }
  // One commit for the whole request: every accepted entry is durable before the answer.
  const results = deps.store.transaction(() => entries.map((entry) => putEntry(entry, deps)));
  return { FailedEntryCount: results.filter((r) => r.ErrorCode).length, Entries: results };
}

/** "Calculating PutEvents event entry size": Time counts 14 bytes, plus the UTF-8 bytes of the strings. */
export function entrySize(entry: PutEventsEntry): number {
  let size = entry.Time !== undefined ? 14 : 0;
  for (const text of [entry.Source, entry.DetailType, entry.Detail]) if (text !== undefined) size += Buffer.byteLength(text, 'utf8');
  for (const resource of entry.Resources ?? []) size += Buffer.byteLength(resource, 'utf8');
  return size;
}

function putEntry(entry: PutEventsEntry, deps: PutEventsDeps): PutEventsResultEntry {
  for (const field of ['Source', 'DetailType', 'Detail'] as const) {
    if (entry[field] === undefined || entry[field] === '') {
      return { ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.` };
    }
  }
  if ((entry.DetailType as string).length > 128) {
    return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter DetailType is not valid. Reason: DetailType is longer than 128 characters.' };
  }
  let detail: unknown;
  try {
    detail = JSON.parse(entry.Detail as string);
  } catch {
    detail = undefined;
  }
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  }
  if (entry.Time !== undefined && Number.isNaN(entry.Time.getTime())) {
    return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Time is not valid.' };
  }
  const now = deps.clock.now();
  const event = newEnvelope(
    { source: entry.Source as string, detailType: entry.DetailType as string, detail, resources: entry.Resources ?? [], time: entry.Time?.getTime() ?? now },
    deps.partition,
  );
  const bus = busNameOf(entry.EventBusName);
  if (!deps.store.bus(bus)) {
    // AWS accepts events for a bus that does not exist and drops them (aws/aws-sdk#186).
    deps.log(`events: PutEvents to unknown bus "${bus}": event ${event.id} accepted and dropped, as AWS does`);
    return { EventId: event.id };
  }
  deps.dispatcher.publish(bus, event, now);
  return { EventId: event.id };
}
