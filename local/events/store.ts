/**
 * Where EventBridge keeps its state. Every change the provider acknowledges goes through one
 * synchronous method here, so a durable store can commit it before the answer is sent: an accepted
 * event's archive records and the deliveries it owes (`accept`), each retry (`saveDelivery`), each
 * delivery's end (`removeDelivery`), and rule, target and replay changes.
 *
 * Today's store keeps everything in memory but the archives, which are JSON lines under
 * `<dataDir>/events/archive/<name>.jsonl`, appended as events are archived and read back at start.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Archive, ArchivedEvent, Bus, Delivery, Replay, Rule } from './models';

export interface EventsStore {
  bus(name: string): Bus | undefined;
  buses(): readonly Bus[];
  putBus(bus: Bus): void;

  rule(bus: string, name: string): Rule | undefined;
  rules(): Iterable<Rule>;
  /** A new rule, or one whose pattern, schedule, state, description or targets changed. */
  saveRule(rule: Rule): void;
  deleteRule(rule: Rule): void;

  archive(name: string): Archive | undefined;
  archives(): readonly Archive[];
  /** Registers an archive; the events it already holds are read back into `archive.events`. */
  putArchive(archive: Archive): void;

  replay(name: string): Replay | undefined;
  replays(): readonly Replay[];
  saveReplay(replay: Replay): void;

  /** One accepted event: what its archives keep and what its targets are owed, together. */
  accept(archived: readonly { archive: Archive; record: ArchivedEvent }[], deliveries: readonly Delivery[]): void;
  /** A delivery's attempt failed and it waits for a retry (`retries` advanced). */
  saveDelivery(delivery: Delivery): void;
  /** Delivered, or given up on. */
  removeDelivery(id: string): void;
  pendingDeliveries(): readonly Delivery[];
}

export class FileEventsStore implements EventsStore {
  private readonly busesByName = new Map<string, Bus>();
  private readonly rulesByKey = new Map<string, Rule>();
  private readonly archivesByName = new Map<string, Archive>();
  private readonly replaysByName = new Map<string, Replay>();
  private readonly deliveries = new Map<string, Delivery>();

  /** Archives are kept in memory only when `dataDir` is absent. */
  constructor(private readonly dataDir?: string) {}

  bus(name: string): Bus | undefined {
    return this.busesByName.get(name);
  }

  buses(): readonly Bus[] {
    return [...this.busesByName.values()];
  }

  putBus(bus: Bus): void {
    this.busesByName.set(bus.name, bus);
  }

  rule(bus: string, name: string): Rule | undefined {
    return this.rulesByKey.get(`${bus}/${name}`);
  }

  rules(): Iterable<Rule> {
    return this.rulesByKey.values();
  }

  saveRule(rule: Rule): void {
    this.rulesByKey.set(`${rule.bus}/${rule.name}`, rule);
  }

  deleteRule(rule: Rule): void {
    this.rulesByKey.delete(`${rule.bus}/${rule.name}`);
  }

  archive(name: string): Archive | undefined {
    return this.archivesByName.get(name);
  }

  archives(): readonly Archive[] {
    return [...this.archivesByName.values()];
  }

  putArchive(archive: Archive): void {
    this.archivesByName.set(archive.name, archive);
    const file = this.archiveFile(archive);
    if (!file || !existsSync(file)) return;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      archive.events.push(JSON.parse(line) as ArchivedEvent);
      archive.sizeBytes += Buffer.byteLength(line);
    }
  }

  replay(name: string): Replay | undefined {
    return this.replaysByName.get(name);
  }

  replays(): readonly Replay[] {
    return [...this.replaysByName.values()];
  }

  saveReplay(replay: Replay): void {
    this.replaysByName.set(replay.name, replay);
  }

  accept(archived: readonly { archive: Archive; record: ArchivedEvent }[], deliveries: readonly Delivery[]): void {
    for (const { archive, record } of archived) {
      const line = JSON.stringify(record);
      archive.events.push(record);
      archive.sizeBytes += Buffer.byteLength(line);
      const file = this.archiveFile(archive);
      if (file) {
        mkdirSync(join(file, '..'), { recursive: true });
        appendFileSync(file, `${line}\n`);
      }
    }
    for (const delivery of deliveries) this.deliveries.set(delivery.id, delivery);
  }

  saveDelivery(delivery: Delivery): void {
    this.deliveries.set(delivery.id, delivery);
  }

  removeDelivery(id: string): void {
    this.deliveries.delete(id);
  }

  pendingDeliveries(): readonly Delivery[] {
    return [...this.deliveries.values()];
  }

  private archiveFile(archive: Archive): string | undefined {
    return this.dataDir ? join(this.dataDir, 'events', 'archive', `${archive.name}.jsonl`) : undefined;
  }
}
