/**
 * Where EventBridge keeps its state: the local cloud's database. Every change the provider
 * acknowledges goes through one synchronous method here and is committed before it returns: an
 * accepted event's archive records and the deliveries it owes (`accept`, one transaction), each
 * retry (`saveDelivery`), each delivery's end (`removeDelivery`), and rule, target and replay changes.
 *
 * Tables: `events_rules` (rules with their targets, as PutRule and PutTargets describe them),
 * `events_archive` (archived events), `events_replays` and `events_deliveries` (what an accepted
 * event still owes a target: its rendered input, retry policy, retries so far and when the next
 * attempt is due). Rules, archives and replays are also held in memory for matching; deliveries
 * live only in the database.
 */
import type { LocalDatabase } from '../shared/database';
import { reviveRule, ruleDocument, type Archive, type ArchivedEvent, type Bus, type Delivery, type Replay, type Rule } from './models';

/** A delivery still owed, and when its next attempt is due (undefined: at once). */
export interface PendingDelivery {
  readonly delivery: Delivery;
  readonly dueAt: number | undefined;
}

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
  /** A delivery's attempt failed and it waits for a retry (`retries` advanced) due at `dueAt`. */
  saveDelivery(delivery: Delivery, dueAt: number): void;
  /** Delivered, or given up on. */
  removeDelivery(id: string): void;
  pendingDeliveries(): readonly PendingDelivery[];

  /** Runs `fn` as one commit (a PutEvents of several entries, a whole replay). */
  transaction<T>(fn: () => T): T;
  /** Runs `work` once the enclosing transaction has committed. */
  afterCommit(work: () => void): void;
}

export class SqliteEventsStore implements EventsStore {
  private readonly busesByName = new Map<string, Bus>();
  private readonly rulesByKey = new Map<string, Rule>();
  private readonly archivesByName = new Map<string, Archive>();
  private readonly replaysByName = new Map<string, Replay>();
  /** Replays read back whose archive is not registered yet, by archive name. */
  private readonly savedReplays: { archive: string; document: string }[];

  /** Reads back the rules and replays saved before; `now` re-arms the rules' schedules. */
  constructor(
    private readonly db: LocalDatabase,
    now: number,
  ) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS events_rules (bus TEXT NOT NULL, name TEXT NOT NULL, rule TEXT NOT NULL, PRIMARY KEY (bus, name));
      CREATE TABLE IF NOT EXISTS events_archive (seq INTEGER PRIMARY KEY AUTOINCREMENT, archive TEXT NOT NULL, record TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS events_archive_by_name ON events_archive (archive, seq);
      CREATE TABLE IF NOT EXISTS events_replays (name TEXT PRIMARY KEY, archive TEXT NOT NULL, replay TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS events_deliveries (id TEXT PRIMARY KEY, delivery TEXT NOT NULL, due_at INTEGER);
    `);
    for (const { rule } of db.all<{ rule: string }>('SELECT rule FROM events_rules')) {
      const revived = reviveRule(JSON.parse(rule), now);
      this.rulesByKey.set(`${revived.bus}/${revived.name}`, revived);
    }
    this.savedReplays = db.all<{ archive: string; replay: string }>('SELECT archive, replay FROM events_replays').map((row) => ({ archive: row.archive, document: row.replay }));
  }

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
    this.db.run(
      'INSERT INTO events_rules (bus, name, rule) VALUES (?, ?, ?) ON CONFLICT (bus, name) DO UPDATE SET rule = excluded.rule',
      rule.bus,
      rule.name,
      JSON.stringify(ruleDocument(rule)),
    );
    this.rulesByKey.set(`${rule.bus}/${rule.name}`, rule);
  }

  deleteRule(rule: Rule): void {
    this.db.run('DELETE FROM events_rules WHERE bus = ? AND name = ?', rule.bus, rule.name);
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
    for (const { record } of this.db.all<{ record: string }>('SELECT record FROM events_archive WHERE archive = ? ORDER BY seq', archive.name)) {
      archive.events.push(JSON.parse(record) as ArchivedEvent);
      archive.sizeBytes += Buffer.byteLength(record);
    }
    for (const saved of this.savedReplays.filter((r) => r.archive === archive.name)) {
      const replay = { ...(JSON.parse(saved.document) as Omit<Replay, 'archive'>), archive };
      this.replaysByName.set(replay.name, replay);
    }
  }

  replay(name: string): Replay | undefined {
    return this.replaysByName.get(name);
  }

  replays(): readonly Replay[] {
    return [...this.replaysByName.values()];
  }

  saveReplay(replay: Replay): void {
    const { archive, ...rest } = replay;
    this.db.run(
      'INSERT INTO events_replays (name, archive, replay) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET replay = excluded.replay',
      replay.name,
      archive.name,
      JSON.stringify(rest),
    );
    this.replaysByName.set(replay.name, replay);
  }

  accept(archived: readonly { archive: Archive; record: ArchivedEvent }[], deliveries: readonly Delivery[]): void {
    const lines = archived.map(({ archive, record }) => ({ archive, record, line: JSON.stringify(record) }));
    this.db.transaction(() => {
      for (const { archive, line } of lines) this.db.run('INSERT INTO events_archive (archive, record) VALUES (?, ?)', archive.name, line);
      for (const delivery of deliveries) this.db.run('INSERT INTO events_deliveries (id, delivery, due_at) VALUES (?, ?, NULL)', delivery.id, JSON.stringify(delivery));
    });
    for (const { archive, record, line } of lines) {
      archive.events.push(record);
      archive.sizeBytes += Buffer.byteLength(line);
    }
  }

  saveDelivery(delivery: Delivery, dueAt: number): void {
    this.db.run('UPDATE events_deliveries SET delivery = ?, due_at = ? WHERE id = ?', JSON.stringify(delivery), dueAt, delivery.id);
  }

  removeDelivery(id: string): void {
    this.db.run('DELETE FROM events_deliveries WHERE id = ?', id);
  }

  pendingDeliveries(): readonly PendingDelivery[] {
    return this.db
      .all<{ delivery: string; due_at: number | null }>('SELECT delivery, due_at FROM events_deliveries ORDER BY rowid')
      .map((row) => ({ delivery: JSON.parse(row.delivery) as Delivery, dueAt: row.due_at ?? undefined }));
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn);
  }

  afterCommit(work: () => void): void {
    this.db.afterCommit(work);
  }
}
