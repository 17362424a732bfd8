/**
 * Where SNS keeps its topics and subscriptions. Every change the provider acknowledges goes through
 * one synchronous method here, so a durable store can commit it before the answer is sent.
 *
 * A published message is not state of its own: the fan-out hands each subscriber's event to Lambda's
 * asynchronous queue before Publish answers, and that queue is Lambda's store.
 */
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
}

/** Today's store: in memory only; the topology's topics are created again at every start. */
export class MemorySnsStore implements SnsStore {
  private readonly byArn = new Map<string, Topic>();

  topic(arn: string): Topic | undefined {
    return this.byArn.get(arn);
  }

  topics(): readonly Topic[] {
    return [...this.byArn.values()];
  }

  putTopic(topic: Topic): void {
    this.byArn.set(topic.arn, topic);
  }

  deleteTopic(arn: string): void {
    this.byArn.delete(arn);
  }

  setTopicAttribute(topic: Topic, name: string, value: string): void {
    topic.attributes.set(name, value);
  }

  addSubscription(topic: Topic, subscription: Subscription): void {
    topic.subscriptions.push(subscription);
  }

  removeSubscription(arn: string): Subscription | undefined {
    for (const topic of this.byArn.values()) {
      const index = topic.subscriptions.findIndex((s) => s.arn === arn);
      if (index >= 0) return topic.subscriptions.splice(index, 1)[0];
    }
    return undefined;
  }
}
