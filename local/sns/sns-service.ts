/**
 * SNS for the local cloud: standard topics with Lambda subscriptions. A publish reaches each Lambda
 * subscriber as an asynchronous invocation carrying AWS's Lambda event envelope (Records[0].Sns…),
 * so task code cannot tell it from the real thing.
 *
 * Laid out as LocalStack lays out a service: `provider.ts` (the Query operations), `models.ts`
 * (topics, subscriptions, notifications) and `store.ts` (where they are kept).
 */
import type { TopicSpec } from '../../topology/topology';
import type { FaultInjector } from '../chaos/injector';
import { systemClock, type Clock } from '../clock';
import type { ServiceHandler } from '../edge/types';
import type { LambdaPort, TopicPort } from '../ports';
import { LocalDatabase } from '../shared/database';
import { topicArn } from './models';
import { SnsProvider } from './provider';
import { SqliteSnsStore } from './store';

export type { SnsLambdaEvent, SnsMessageAttribute } from './models';

export interface SnsServiceOptions {
  readonly region: string;
  readonly account: string;
  /** Topics (and their Lambda subscriptions) that exist from the start. */
  readonly topics: readonly TopicSpec[];
  readonly lambda: LambdaPort;
  /** @default systemClock */
  readonly clock?: Clock;
  /**
   * Where topics and subscriptions are kept. Publish commits its fan-out here, so it must be the
   * database Lambda keeps its asynchronous queue in. @default a private in-memory database
   */
  readonly database?: LocalDatabase;
  /** Delivery faults on each subscriber's copy of a message. */
  readonly faults?: FaultInjector;
}

export class SnsService implements TopicPort {
  readonly handler: ServiceHandler;
  private readonly provider: SnsProvider;

  constructor(private readonly options: SnsServiceOptions) {
    const partition = { region: options.region, account: options.account };
    this.provider = new SnsProvider({ partition, store: new SqliteSnsStore(options.database ?? LocalDatabase.open(undefined)), lambda: options.lambda, clock: options.clock ?? systemClock, ...(options.faults ? { faults: options.faults } : {}) });
    for (const spec of options.topics) {
      const topic = this.provider.createTopic(spec.name);
      for (const subscription of spec.subscriptions) {
        this.provider.subscribe(topic, `arn:aws:lambda:${options.region}:${options.account}:function:${subscription.function}`);
      }
    }
    this.handler = this.provider.handler;
  }

  async publish(arn: string, message: string, subject?: string): Promise<{ messageId: string }> {
    return { messageId: this.provider.publish(arn, message, subject) };
  }

  topicArn(name: string): string {
    return topicArn(name, this.options);
  }
}
