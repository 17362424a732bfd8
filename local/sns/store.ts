/**
 * Where SNS keeps its topics and subscriptions: table `sns_topics` of the local cloud's database, one
 * row per topic with its attributes and subscriptions. Every change the provider acknowledges goes
 * through one synchronous method here and is committed before it returns.
 *
 * A published message is not state of its own: the fan-out hands each subscriber's event to Lambda's
 * asynchronous queue, all in one transaction (`transaction`), before Publish answers.
 */
import type { LocalDatabase } from '../shared/database';
import type { Subscription, Topic } from './models';

export interface SnsStore {
  topic(arn: string): Topic | undefined;
  /** In creation order. */
  topics(): readonly Topic[];
  putTopic(topic: Topic): void;
  deleteTopic(arn: string): void;
  setTopicAttribute(topic: Topic, name: string, value: string): void;
  addSubscription(topic: Topic, subscription: Subscription): void;
  /** Removes a subscription wherever it is; undefined when none has that ARN. */
  removeSubscription(arn: string): Subscription | undefined;
  /** Runs `fn` as one commit: a publish reaches every subscriber or none. */
  transaction<T>(fn: () => T): T;
}

interface TopicDocument {
  readonly name: string;
  readonly arn: string;
  readonly attributes: readonly (readonly [string, string])[];
  readonly subscriptions: readonly Subscription[];
}

export class SqliteSnsStore implements SnsStore {
  private readonly byArn = new Map<string, Topic>();

  /** Reads back the topics saved before, in creation order. */
  constructor(private readonly db: LocalDatabase) {
    db.exec('CREATE TABLE IF NOT EXISTS sns_topics (seq INTEGER PRIMARY KEY AUTOINCREMENT, arn TEXT NOT NULL UNIQUE, topic TEXT NOT NULL)');
    for (const row of db.all<{ topic: string }>('SELECT topic FROM sns_topics ORDER BY seq')) {
      const document = JSON.parse(row.topic) as TopicDocument;
      this.byArn.set(document.arn, { name: document.name, arn: document.arn, attributes: new Map(document.attributes), subscriptions: [...document.subscriptions] });
    }
  }

  topic(arn: string): Topic | undefined {
    return this.byArn.get(arn);
  }

  topics(): readonly Topic[] {
    return [...this.byArn.values()];
  }

  putTopic(topic: Topic): void {
    this.db.run('INSERT INTO sns_topics (arn, topic) VALUES (?, ?)', topic.arn, document(topic));
    this.byArn.set(topic.arn, topic);
  }

  deleteTopic(arn: string): void {
    this.db.run('DELETE FROM sns_topics WHERE arn = ?', arn);
    this.byArn.delete(arn);
  }

  setTopicAttribute(topic: Topic, name: string, value: string): void {
    topic.attributes.set(name, value);
    this.update(topic);
  }

  addSubscription(topic: Topic, subscription: Subscription): void {
    topic.subscriptions.push(subscription);
    this.update(topic);
  }

  removeSubscription(arn: string): Subscription | undefined {
    for (const topic of this.byArn.values()) {
      const index = topic.subscriptions.findIndex((s) => s.arn === arn);
      if (index < 0) continue;
      const [removed] = topic.subscriptions.splice(index, 1);
      this.update(topic);
      return removed;
    }
    return undefined;
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn);
  }

  private update(topic: Topic): void {
    this.db.run('UPDATE sns_topics SET topic = ? WHERE arn = ?', document(topic), topic.arn);
  }
}

function document(topic: Topic): string {
  const saved: TopicDocument = { name: topic.name, arn: topic.arn, attributes: [...topic.attributes], subscriptions: topic.subscriptions };
  return JSON.stringify(saved);
}
