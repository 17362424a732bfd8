/**
 * SNS's operations over the AWS Query protocol (form in, XML out): AWS's validation and error
 * shapes, pagination, and Publish's fan-out to the Lambda subscribers.
 */
import { randomUUID } from 'node:crypto';
import type { Partition } from '../arns';
import type { FaultInjector } from '../chaos/injector';
import type { Clock } from '../clock';
import { AwsServiceError } from '../edge/errors';
import { queryService, xmlMap, type QueryInput } from '../edge/query-protocol';
import type { ServiceHandler } from '../edge/types';
import type { LambdaPort } from '../ports';
import { paginate, type PaginationRules } from '../shared/pagination';
import {
  effectiveAttributes,
  isLambdaArn,
  lambdaEvent,
  newSubscription,
  newTopic,
  subscribedFunction,
  topicArn,
  type Notification,
  type SnsMessageAttribute,
  type Subscription,
  type Topic,
} from './models';
import type { SnsStore } from './store';

const XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';
/** "at most 256 KB in size (262,144 bytes, not 262,144 characters)" — PublishInput. */
const MAX_MESSAGE_BYTES = 262_144;
const MAX_MESSAGE_ATTRIBUTES = 10;
const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$/;
const SETTABLE_TOPIC_ATTRIBUTES = new Set(['DisplayName', 'Policy', 'DeliveryPolicy', 'KmsMasterKeyId', 'TracingConfig', 'SignatureVersion', 'DataProtectionPolicy']);
const PAGES: PaginationRules = { defaultSize: 100, maxSize: 100, invalidToken: () => invalidParameter('NextToken', 'is not a token this service returned') };

export interface SnsProviderDeps {
  readonly partition: Partition;
  readonly store: SnsStore;
  readonly lambda: LambdaPort;
  readonly clock: Clock;
  /** Delivery faults (`drop`, `duplicate`, `delay`) on each subscriber's copy of a message. */
  readonly faults?: FaultInjector;
}

export class SnsProvider {
  readonly handler: ServiceHandler;

  constructor(private readonly deps: SnsProviderDeps) {
    this.handler = queryService({
      name: 'sns',
      signingNames: ['sns'],
      xmlns: XMLNS,
      operations: {
        CreateTopic: (input) => this.createTopicAction(input),
        DeleteTopic: (input) => {
          deps.store.deleteTopic(this.requireTopic(input.get('TopicArn')).arn);
          return undefined;
        },
        ListTopics: (input) => {
          const { items, nextToken } = paginate(deps.store.topics(), undefined, input.get('NextToken'), PAGES);
          return { Topics: items.map((t) => ({ TopicArn: t.arn })), NextToken: nextToken };
        },
        GetTopicAttributes: (input) => ({ Attributes: xmlMap(effectiveAttributes(this.requireTopic(input.get('TopicArn')), deps.partition.account)) }),
        SetTopicAttributes: (input) => this.setTopicAttributes(input),
        Subscribe: (input) => this.subscribeAction(input),
        Unsubscribe: (input) => this.unsubscribe(input),
        ListSubscriptions: (input) => this.subscriptionsPage(deps.store.topics().flatMap((t) => t.subscriptions), input),
        ListSubscriptionsByTopic: (input) => this.subscriptionsPage(this.requireTopic(input.get('TopicArn')).subscriptions, input),
        Publish: (input) => ({ MessageId: this.publishAction(input) }),
      },
    });
  }

  /** Creates a topic, or returns the existing one of that name (the topology's, at start). */
  createTopic(name: string, attributes: Map<string, string> = new Map()): Topic {
    const existing = this.deps.store.topic(topicArn(name, this.deps.partition));
    if (existing) return existing;
    const topic = newTopic(name, attributes, this.deps.partition);
    this.deps.store.putTopic(topic);
    return topic;
  }

  /** Subscribing the same endpoint again returns the existing subscription. */
  subscribe(topic: Topic, endpoint: string): Subscription {
    const existing = topic.subscriptions.find((s) => s.endpoint === endpoint);
    if (existing) return existing;
    const subscription = newSubscription(topic, endpoint);
    this.deps.store.addSubscription(topic, subscription);
    return subscription;
  }

  /** Validates and fans out one message; returns its MessageId. */
  publish(arn: string, message: string, subject?: string): string {
    return this.deliver(this.requireTopic(arn), message, subject, {});
  }

  private deliver(topic: Topic, message: string, subject: string | undefined, attributes: Record<string, SnsMessageAttribute>): string {
    const bytes = Buffer.byteLength(message);
    if (bytes > MAX_MESSAGE_BYTES) throw invalidParameter('Message', `Message too long: ${bytes} bytes, at most ${MAX_MESSAGE_BYTES}`);
    if (subject !== undefined) validateSubject(subject);
    const notification: Notification = {
      messageId: randomUUID(),
      topicArn: topic.arn,
      subject,
      message,
      timestamp: new Date(this.deps.clock.now()).toISOString(),
      attributes,
    };
    // The fan-out is the one place a message reaches its subscribers: each one's event joins Lambda's
    // asynchronous queue in a single commit, so a restart never finds some delivered and some not.
    this.deps.store.transaction(() => {
      for (const subscription of topic.subscriptions) {
        const fn = subscribedFunction(subscription);
        const event = lambdaEvent(notification, subscription, this.deps.partition.region);
        // A fault acts on this subscriber's delivery, committed with the rest: a dropped one is done, a duplicate is two invocations.
        const fault = this.deps.faults?.active ? this.deps.faults.delivery('sns', topic, `message ${notification.messageId} to ${fn}`) : undefined;
        if (fault?.kind === 'drop') continue;
        this.deps.lambda.invokeAsync(fn, event, fault?.kind === 'delay' ? { delayMs: fault.delayMs } : undefined);
        if (fault?.kind === 'duplicate') this.deps.lambda.invokeAsync(fn, event);
      }
    });
    return notification.messageId;
  }

  private createTopicAction(input: QueryInput): { TopicArn: string } {
    const name = input.get('Name');
    if (name === undefined || name === '') throw invalidParameter('Name', 'is required');
    const attributes = new Map(input.map('Attributes').map(({ key, value }) => [key, value.value() ?? ''] as const));
    const fifo = attributes.get('FifoTopic') === 'true';
    if (fifo || name.endsWith('.fifo')) {
      // FIFO topics cannot deliver to Lambda, the only protocol emulated here.
      throw invalidParameter('Name', 'FIFO topics are not emulated by the local cloud (they cannot deliver to Lambda)');
    }
    if (!TOPIC_NAME.test(name)) throw invalidParameter('Topic Name', 'must be 1-256 letters, digits, hyphens or underscores');
    for (const key of attributes.keys()) {
      if (!SETTABLE_TOPIC_ATTRIBUTES.has(key)) throw invalidParameter('Attributes', `unknown attribute ${key}`);
    }
    const existing = this.deps.store.topic(topicArn(name, this.deps.partition));
    if (existing) {
      // CreateTopic is idempotent, but only with the same attributes.
      for (const [key, value] of attributes) {
        if (existing.attributes.get(key) !== value) throw invalidParameter('Attributes', 'Topic already exists with different attributes');
      }
      return { TopicArn: existing.arn };
    }
    return { TopicArn: this.createTopic(name, attributes).arn };
  }

  private setTopicAttributes(input: QueryInput): undefined {
    const topic = this.requireTopic(input.get('TopicArn'));
    const name = input.get('AttributeName') ?? '';
    if (!SETTABLE_TOPIC_ATTRIBUTES.has(name)) throw invalidParameter('AttributeName', `${name || '(empty)'} cannot be set`);
    this.deps.store.setTopicAttribute(topic, name, input.get('AttributeValue') ?? '');
    return undefined;
  }

  private subscribeAction(input: QueryInput): { SubscriptionArn: string } {
    const topic = this.requireTopic(input.get('TopicArn'));
    const protocol = input.get('Protocol');
    if (protocol === undefined || protocol === '') throw invalidParameter('Protocol', 'is required');
    if (protocol !== 'lambda') throw invalidParameter('Protocol', `the local cloud delivers only to the lambda protocol, not ${protocol}`);
    const endpoint = input.get('Endpoint') ?? '';
    if (!isLambdaArn(endpoint)) throw invalidParameter('Lambda endpoint ARN', `"${endpoint}" is not a Lambda function ARN`);
    if (input.map('Attributes').length > 0) {
      throw invalidParameter('Attributes', 'subscription attributes (filter policies, raw delivery) are not emulated by the local cloud');
    }
    return { SubscriptionArn: this.subscribe(topic, endpoint).arn };
  }

  private unsubscribe(input: QueryInput): undefined {
    if (this.deps.store.removeSubscription(input.get('SubscriptionArn') ?? '')) return undefined;
    throw new AwsServiceError('NotFound', 'Subscription does not exist', 404);
  }

  private subscriptionsPage(all: readonly Subscription[], input: QueryInput): unknown {
    const { items, nextToken } = paginate(all, undefined, input.get('NextToken'), PAGES);
    const { account } = this.deps.partition;
    return { Subscriptions: items.map((s) => ({ SubscriptionArn: s.arn, Owner: account, Protocol: s.protocol, Endpoint: s.endpoint, TopicArn: s.topicArn })), NextToken: nextToken };
  }

  private publishAction(input: QueryInput): string {
    if (input.get('PhoneNumber') !== undefined) throw invalidParameter('PhoneNumber', 'SMS is not emulated by the local cloud');
    const topic = this.requireTopic(input.get('TopicArn') ?? input.get('TargetArn'));
    let message = input.get('Message');
    if (message === undefined || message === '') throw invalidParameter('Message', 'Empty message');
    const structure = input.get('MessageStructure');
    if (structure !== undefined) {
      if (structure !== 'json') throw invalidParameter('MessageStructure', `must be json, not ${structure}`);
      message = lambdaMessageFromStructure(message);
    }
    return this.deliver(topic, message, input.get('Subject'), readMessageAttributes(input));
  }

  private requireTopic(arn: string | undefined): Topic {
    if (arn === undefined || arn === '') throw invalidParameter('TopicArn or TargetArn', 'is required');
    if (!/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]+$/.test(arn)) throw invalidParameter('TopicArn', `"${arn}" is not a topic ARN`);
    const topic = this.deps.store.topic(arn);
    if (!topic) throw new AwsServiceError('NotFound', 'Topic does not exist', 404);
    return topic;
  }
}

function invalidParameter(field: string, detail: string): AwsServiceError {
  return new AwsServiceError('InvalidParameter', `Invalid parameter: ${field}: ${detail}`, 400);
}

/** "UTF-8 text with no line breaks or control characters, and less than 100 characters long" (Publish docs). */
function validateSubject(subject: string): void {
  // eslint-disable-next-line no-control-regex
  if (subject.length === 0 || [...subject].length >= 100 || /[\u0000-\u001f\u007f]/.test(subject)) {
    throw invalidParameter('Subject', 'must be 1-99 characters with no line breaks or control characters');
  }
}

/** With MessageStructure=json, a Lambda subscriber gets the `lambda` member, else `default`. */
function lambdaMessageFromStructure(message: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    throw invalidParameter('Message', 'Message Structure - JSON message body failed to parse');
  }
  const record = parsed as Record<string, unknown>;
  if (!parsed || typeof parsed !== 'object' || typeof record.default !== 'string') {
    throw invalidParameter('Message', 'Message Structure - No default entry in JSON message body');
  }
  return typeof record.lambda === 'string' ? record.lambda : record.default;
}

function readMessageAttributes(input: QueryInput): Record<string, SnsMessageAttribute> {
  const entries = input.map('MessageAttributes', { keyName: 'Name', valueName: 'Value' });
  if (entries.length > MAX_MESSAGE_ATTRIBUTES) {
    throw invalidParameter('MessageAttributes', `Number of message attributes [${entries.length}] exceeds the allowed maximum [${MAX_MESSAGE_ATTRIBUTES}]`);
  }
  const out: Record<string, SnsMessageAttribute> = {};
  for (const { key, value } of entries) {
    if (!/^[A-Za-z0-9_.-]{1,256}$/.test(key) || key.startsWith('.') || key.endsWith('.') || key.includes('..') || /^(aws|amazon)\./i.test(key)) {
      throw invalidParameter('MessageAttributes', `invalid attribute name "${key}"`);
    }
    const dataType = value.get('DataType') ?? '';
    const base = dataType.split('.')[0];
    if (base !== 'String' && base !== 'Number' && base !== 'Binary') {
      throw invalidParameter('MessageAttributes', `The message attribute '${key}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`);
    }
    const text = base === 'Binary' ? value.get('BinaryValue') : value.get('StringValue');
    if (text === undefined || text === '') {
      throw invalidParameter('MessageAttributes', `The message attribute '${key}' must contain non-empty message attribute value for message attribute type '${base}'.`);
    }
    if (base === 'Number' && !/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text)) {
      throw invalidParameter('MessageAttributes', `Could not cast message attribute '${key}' value to number.`);
    }
    // The envelope carries Binary values base64-encoded, exactly as they travelled on the wire.
    out[key] = { Type: dataType, Value: text };
  }
  return out;
}
