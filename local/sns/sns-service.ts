/**
 * SNS emulator (AWS Query protocol: form in, XML out): standard topics with Lambda subscriptions.
 * A publish is delivered to each Lambda subscriber as an asynchronous invocation carrying AWS's
 * Lambda event envelope (Records[0].Sns…), so task code cannot tell it from the real thing.
 */
import { createHash, randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../clock';
import { AwsServiceError } from '../edge/errors';
import { queryService, xmlMap, type QueryInput } from '../edge/query-protocol';
import type { ServiceHandler } from '../edge/types';
import type { LambdaPort, TopicPort } from '../ports';
import type { TopicSpec } from '../../topology/topology';

export interface SnsServiceOptions {
  readonly region: string;
  readonly account: string;
  /** Topics (and their Lambda subscriptions) that exist from the start. */
  readonly topics: readonly TopicSpec[];
  readonly lambda: LambdaPort;
  /** @default systemClock */
  readonly clock?: Clock;
}

export interface SnsMessageAttribute {
  readonly Type: string;
  readonly Value: string;
}

/** The event Lambda receives from an SNS subscription (one record per invocation). */
export interface SnsLambdaEvent {
  readonly Records: readonly {
    readonly EventSource: 'aws:sns';
    readonly EventVersion: '1.0';
    readonly EventSubscriptionArn: string;
    readonly Sns: {
      readonly Type: 'Notification';
      readonly MessageId: string;
      readonly TopicArn: string;
      readonly Subject: string | null;
      readonly Message: string;
      readonly Timestamp: string;
      readonly SignatureVersion: '1';
      readonly Signature: string;
      readonly SigningCertUrl: string;
      readonly UnsubscribeUrl: string;
      readonly MessageAttributes: Readonly<Record<string, SnsMessageAttribute>>;
    };
  }[];
}

interface Subscription {
  readonly arn: string;
  readonly topicArn: string;
  readonly protocol: 'lambda';
  readonly endpoint: string;
}

interface Topic {
  readonly name: string;
  readonly arn: string;
  readonly attributes: Map<string, string>;
  readonly subscriptions: Subscription[];
}

const XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';
/** "at most 256 KB in size (262,144 bytes, not 262,144 characters)" — PublishInput. */
const MAX_MESSAGE_BYTES = 262_144;
const MAX_MESSAGE_ATTRIBUTES = 10;
const PAGE_SIZE = 100;
const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$/;
const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:([A-Za-z0-9_-]{1,64})(?::[A-Za-z0-9$_-]+)?$/;
const SETTABLE_TOPIC_ATTRIBUTES = new Set(['DisplayName', 'Policy', 'DeliveryPolicy', 'KmsMasterKeyId', 'TracingConfig', 'SignatureVersion', 'DataProtectionPolicy']);

export class SnsService implements TopicPort {
  readonly handler: ServiceHandler;
  private readonly topics = new Map<string, Topic>();
  private readonly clock: Clock;

  constructor(private readonly options: SnsServiceOptions) {
    this.clock = options.clock ?? systemClock;
    for (const spec of options.topics) {
      const topic = this.createTopic(spec.name, new Map());
      for (const subscription of spec.subscriptions) {
        this.subscribe(topic, `arn:aws:lambda:${options.region}:${options.account}:function:${subscription.function}`);
      }
    }
    this.handler = queryService({
      name: 'sns',
      signingNames: ['sns'],
      xmlns: XMLNS,
      operations: {
        CreateTopic: (input) => this.createTopicAction(input),
        DeleteTopic: (input) => {
          this.topics.delete(this.requireTopic(input.get('TopicArn')).arn);
          return undefined;
        },
        ListTopics: (input) => {
          const { page, nextToken } = paginate([...this.topics.values()], input.get('NextToken'));
          return { Topics: page.map((t) => ({ TopicArn: t.arn })), NextToken: nextToken };
        },
        GetTopicAttributes: (input) => ({ Attributes: xmlMap(this.topicAttributes(this.requireTopic(input.get('TopicArn')))) }),
        SetTopicAttributes: (input) => this.setTopicAttributes(input),
        Subscribe: (input) => this.subscribeAction(input),
        Unsubscribe: (input) => this.unsubscribe(input),
        ListSubscriptions: (input) => {
          const all = [...this.topics.values()].flatMap((t) => t.subscriptions);
          const { page, nextToken } = paginate(all, input.get('NextToken'));
          return { Subscriptions: page.map((s) => this.subscriptionXml(s)), NextToken: nextToken };
        },
        ListSubscriptionsByTopic: (input) => {
          const topic = this.requireTopic(input.get('TopicArn'));
          const { page, nextToken } = paginate(topic.subscriptions, input.get('NextToken'));
          return { Subscriptions: page.map((s) => this.subscriptionXml(s)), NextToken: nextToken };
        },
        Publish: (input) => ({ MessageId: this.publishAction(input) }),
      },
    });
  }

  async publish(topicArn: string, message: string, subject?: string): Promise<{ messageId: string }> {
    return { messageId: this.deliver(this.requireTopic(topicArn), message, subject, {}) };
  }

  topicArn(name: string): string {
    return `arn:aws:sns:${this.options.region}:${this.options.account}:${name}`;
  }

  // ---- topics --------------------------------------------------------------------------------

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
    const existing = this.topics.get(this.topicArn(name));
    if (existing) {
      // CreateTopic is idempotent, but only with the same attributes.
      for (const [key, value] of attributes) {
        if (existing.attributes.get(key) !== value) {
          throw invalidParameter('Attributes', 'Topic already exists with different attributes');
        }
      }
      return { TopicArn: existing.arn };
    }
    return { TopicArn: this.createTopic(name, attributes).arn };
  }

  private createTopic(name: string, attributes: Map<string, string>): Topic {
    const arn = this.topicArn(name);
    const existing = this.topics.get(arn);
    if (existing) return existing;
    const topic: Topic = { name, arn, attributes, subscriptions: [] };
    this.topics.set(arn, topic);
    return topic;
  }

  private setTopicAttributes(input: QueryInput): undefined {
    const topic = this.requireTopic(input.get('TopicArn'));
    const name = input.get('AttributeName') ?? '';
    if (!SETTABLE_TOPIC_ATTRIBUTES.has(name)) throw invalidParameter('AttributeName', `${name || '(empty)'} cannot be set`);
    topic.attributes.set(name, input.get('AttributeValue') ?? '');
    return undefined;
  }

  private topicAttributes(topic: Topic): Record<string, string> {
    return {
      TopicArn: topic.arn,
      Owner: this.options.account,
      Policy: topic.attributes.get('Policy') ?? this.defaultPolicy(topic),
      DisplayName: topic.attributes.get('DisplayName') ?? '',
      SubscriptionsConfirmed: String(topic.subscriptions.length),
      SubscriptionsPending: '0',
      SubscriptionsDeleted: '0',
      EffectiveDeliveryPolicy: topic.attributes.get('DeliveryPolicy') ?? DEFAULT_DELIVERY_POLICY,
      ...Object.fromEntries([...topic.attributes].filter(([key]) => key !== 'Policy' && key !== 'DisplayName')),
    };
  }

  private defaultPolicy(topic: Topic): string {
    return JSON.stringify({
      Version: '2008-10-17',
      Id: '__default_policy_ID',
      Statement: [
        {
          Sid: '__default_statement_ID',
          Effect: 'Allow',
          Principal: { AWS: '*' },
          Action: ['SNS:GetTopicAttributes', 'SNS:SetTopicAttributes', 'SNS:AddPermission', 'SNS:RemovePermission', 'SNS:DeleteTopic', 'SNS:Subscribe', 'SNS:ListSubscriptionsByTopic', 'SNS:Publish'],
          Resource: topic.arn,
          Condition: { StringEquals: { 'AWS:SourceOwner': this.options.account } },
        },
      ],
    });
  }

  // ---- subscriptions -------------------------------------------------------------------------

  private subscribeAction(input: QueryInput): { SubscriptionArn: string } {
    const topic = this.requireTopic(input.get('TopicArn'));
    const protocol = input.get('Protocol');
    if (protocol === undefined || protocol === '') throw invalidParameter('Protocol', 'is required');
    if (protocol !== 'lambda') {
      throw invalidParameter('Protocol', `the local cloud delivers only to the lambda protocol, not ${protocol}`);
    }
    const endpoint = input.get('Endpoint') ?? '';
    if (!LAMBDA_ARN.test(endpoint)) throw invalidParameter('Lambda endpoint ARN', `"${endpoint}" is not a Lambda function ARN`);
    if (input.map('Attributes').length > 0) {
      throw invalidParameter('Attributes', 'subscription attributes (filter policies, raw delivery) are not emulated by the local cloud');
    }
    return { SubscriptionArn: this.subscribe(topic, endpoint).arn };
  }

  private subscribe(topic: Topic, endpoint: string): Subscription {
    // Subscribing the same endpoint again returns the existing subscription.
    const existing = topic.subscriptions.find((s) => s.endpoint === endpoint);
    if (existing) return existing;
    const subscription: Subscription = { arn: `${topic.arn}:${randomUUID()}`, topicArn: topic.arn, protocol: 'lambda', endpoint };
    topic.subscriptions.push(subscription);
    return subscription;
  }

  private unsubscribe(input: QueryInput): undefined {
    const arn = input.get('SubscriptionArn') ?? '';
    for (const topic of this.topics.values()) {
      const index = topic.subscriptions.findIndex((s) => s.arn === arn);
      if (index >= 0) {
        topic.subscriptions.splice(index, 1);
        return undefined;
      }
    }
    throw new AwsServiceError('NotFound', 'Subscription does not exist', 404);
  }

  private subscriptionXml(s: Subscription): Record<string, string> {
    return { SubscriptionArn: s.arn, Owner: this.options.account, Protocol: s.protocol, Endpoint: s.endpoint, TopicArn: s.topicArn };
  }

  // ---- publishing ----------------------------------------------------------------------------

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

  /** Validates and fans out one message; returns its MessageId. */
  private deliver(topic: Topic, message: string, subject: string | undefined, attributes: Record<string, SnsMessageAttribute>): string {
    const bytes = Buffer.byteLength(message);
    if (bytes > MAX_MESSAGE_BYTES) throw invalidParameter('Message', `Message too long: ${bytes} bytes, at most ${MAX_MESSAGE_BYTES}`);
    if (subject !== undefined) validateSubject(subject);
    const messageId = randomUUID();
    const timestamp = new Date(this.clock.now()).toISOString();
    for (const subscription of topic.subscriptions) {
      const unsubscribeUrl = `https://sns.${this.options.region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${subscription.arn}`;
      const event: SnsLambdaEvent = {
        Records: [
          {
            EventSource: 'aws:sns',
            EventVersion: '1.0',
            EventSubscriptionArn: subscription.arn,
            Sns: {
              Type: 'Notification',
              MessageId: messageId,
              TopicArn: topic.arn,
              Subject: subject ?? null,
              Message: message,
              Timestamp: timestamp,
              SignatureVersion: '1',
              // Not verifiable: the local cloud has no SNS signing key. Stable per message, like AWS's.
              Signature: createHash('sha256').update(`${messageId}\n${message}\n${timestamp}`).digest('base64'),
              SigningCertUrl: `https://sns.${this.options.region}.amazonaws.com/SimpleNotificationService-${createHash('md5').update(this.options.region).digest('hex')}.pem`,
              UnsubscribeUrl: unsubscribeUrl,
              MessageAttributes: attributes,
            },
          },
        ],
      };
      this.options.lambda.invokeAsync(functionName(subscription.endpoint), event);
    }
    return messageId;
  }

  private requireTopic(arn: string | undefined): Topic {
    if (arn === undefined || arn === '') throw invalidParameter('TopicArn or TargetArn', 'is required');
    if (!/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]+$/.test(arn)) throw invalidParameter('TopicArn', `"${arn}" is not a topic ARN`);
    const topic = this.topics.get(arn);
    if (!topic) throw new AwsServiceError('NotFound', 'Topic does not exist', 404);
    return topic;
  }
}

const DEFAULT_DELIVERY_POLICY = JSON.stringify({
  http: { defaultHealthyRetryPolicy: { minDelayTarget: 20, maxDelayTarget: 20, numRetries: 3, numMaxDelayRetries: 0, numNoDelayRetries: 0, numMinDelayRetries: 0, backoffFunction: 'linear' }, disableSubscriptionOverrides: false, defaultRequestPolicy: { headerContentType: 'text/plain; charset=UTF-8' } },
});

function invalidParameter(field: string, detail: string): AwsServiceError {
  return new AwsServiceError('InvalidParameter', `Invalid parameter: ${field}: ${detail}`, 400);
}

function functionName(endpoint: string): string {
  return LAMBDA_ARN.exec(endpoint)?.[1] ?? endpoint;
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

function paginate<T>(items: readonly T[], token: string | undefined): { page: T[]; nextToken: string | undefined } {
  const start = token === undefined ? 0 : Number(token);
  if (!Number.isInteger(start) || start < 0 || start > items.length) throw invalidParameter('NextToken', 'is not a token this service returned');
  const end = start + PAGE_SIZE;
  return { page: items.slice(start, end), nextToken: end < items.length ? String(end) : undefined };
}
