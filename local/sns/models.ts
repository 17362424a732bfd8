/**
 * SNS's domain: standard topics, their Lambda subscriptions, and the notification a subscriber
 * receives. No wire format here: the provider maps the Query protocol onto these.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Partition } from '../arns';

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

export interface Subscription {
  readonly arn: string;
  readonly topicArn: string;
  readonly protocol: 'lambda';
  /** The subscribed function's ARN. */
  readonly endpoint: string;
}

export interface Topic {
  readonly name: string;
  readonly arn: string;
  /** Attributes set by CreateTopic/SetTopicAttributes (not the computed ones). */
  readonly attributes: Map<string, string>;
  readonly subscriptions: Subscription[];
}

/** One published message, as every subscriber of its topic receives it. */
export interface Notification {
  readonly messageId: string;
  readonly topicArn: string;
  readonly subject: string | undefined;
  readonly message: string;
  /** ISO-8601 with milliseconds, as SNS stamps it. */
  readonly timestamp: string;
  readonly attributes: Readonly<Record<string, SnsMessageAttribute>>;
}

const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:([A-Za-z0-9_-]{1,64})(?::[A-Za-z0-9$_-]+)?$/;

const DEFAULT_DELIVERY_POLICY = JSON.stringify({
  http: { defaultHealthyRetryPolicy: { minDelayTarget: 20, maxDelayTarget: 20, numRetries: 3, numMaxDelayRetries: 0, numNoDelayRetries: 0, numMinDelayRetries: 0, backoffFunction: 'linear' }, disableSubscriptionOverrides: false, defaultRequestPolicy: { headerContentType: 'text/plain; charset=UTF-8' } },
});

export function topicArn(name: string, { region, account }: Partition): string {
  return `arn:aws:sns:${region}:${account}:${name}`;
}

export function newTopic(name: string, attributes: Map<string, string>, partition: Partition): Topic {
  return { name, arn: topicArn(name, partition), attributes, subscriptions: [] };
}

export function newSubscription(topic: Topic, endpoint: string): Subscription {
  return { arn: `${topic.arn}:${randomUUID()}`, topicArn: topic.arn, protocol: 'lambda', endpoint };
}

export function isLambdaArn(endpoint: string): boolean {
  return LAMBDA_ARN.test(endpoint);
}

/** The function name a subscription invokes. */
export function subscribedFunction(subscription: Subscription): string {
  return LAMBDA_ARN.exec(subscription.endpoint)?.[1] ?? subscription.endpoint;
}

/** What GetTopicAttributes reports: the set attributes over SNS's computed defaults. */
export function effectiveAttributes(topic: Topic, account: string): Record<string, string> {
  return {
    TopicArn: topic.arn,
    Owner: account,
    Policy: topic.attributes.get('Policy') ?? defaultPolicy(topic, account),
    DisplayName: topic.attributes.get('DisplayName') ?? '',
    SubscriptionsConfirmed: String(topic.subscriptions.length),
    SubscriptionsPending: '0',
    SubscriptionsDeleted: '0',
    EffectiveDeliveryPolicy: topic.attributes.get('DeliveryPolicy') ?? DEFAULT_DELIVERY_POLICY,
    ...Object.fromEntries([...topic.attributes].filter(([key]) => key !== 'Policy' && key !== 'DisplayName')),
  };
}

function defaultPolicy(topic: Topic, account: string): string {
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
        Condition: { StringEquals: { 'AWS:SourceOwner': account } },
      },
    ],
  });
}

/** The Lambda event for one subscriber of a notification: AWS's envelope, field for field. */
export function lambdaEvent(notification: Notification, subscription: Subscription, region: string): SnsLambdaEvent {
  const { messageId, message, timestamp } = notification;
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: subscription.arn,
        Sns: {
          Type: 'Notification',
          MessageId: messageId,
          TopicArn: notification.topicArn,
          Subject: notification.subject ?? null,
          Message: message,
          Timestamp: timestamp,
          SignatureVersion: '1',
          // Not verifiable: the local cloud has no SNS signing key. Stable per message, like AWS's.
          Signature: createHash('sha256').update(`${messageId}\n${message}\n${timestamp}`).digest('base64'),
          SigningCertUrl: `https://sns.${region}.amazonaws.com/SimpleNotificationService-${createHash('md5').update(region).digest('hex')}.pem`,
          UnsubscribeUrl: `https://sns.${region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${subscription.arn}`,
          MessageAttributes: notification.attributes,
        },
      },
    ],
  };
}
