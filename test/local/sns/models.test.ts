import { ListTopicsCommand, SNSClient, UnsubscribeCommand } from '@aws-sdk/client-sns';
import { ManualClock } from '../../../local/clock';
import { EdgeServer } from '../../../local/edge/server';
import { effectiveAttributes, lambdaEvent, newSubscription, newTopic, subscribedFunction, type Notification } from '../../../local/sns/models';
import { SnsProvider } from '../../../local/sns/provider';
import { LocalDatabase } from '../../../local/shared/database';
import { SqliteSnsStore } from '../../../local/sns/store';

const PARTITION = { region: 'eu-west-1', account: '123456789012' };

describe('SNS models', () => {
  it('reports set attributes over the computed defaults, counting subscriptions', () => {
    const topic = newTopic('t', new Map([['DisplayName', 'Shown'], ['DeliveryPolicy', '{"x":1}']]), PARTITION);
    topic.subscriptions.push(newSubscription(topic, 'arn:aws:lambda:eu-west-1:123456789012:function:f'));
    expect(effectiveAttributes(topic, PARTITION.account)).toMatchObject({
      TopicArn: 'arn:aws:sns:eu-west-1:123456789012:t',
      Owner: PARTITION.account,
      DisplayName: 'Shown',
      SubscriptionsConfirmed: '1',
      EffectiveDeliveryPolicy: '{"x":1}',
      DeliveryPolicy: '{"x":1}',
    });
    expect(JSON.parse(effectiveAttributes(topic, PARTITION.account).Policy!)).toMatchObject({ Statement: [{ Condition: { StringEquals: { 'AWS:SourceOwner': PARTITION.account } } }] });
  });

  it('addresses a subscriber by its function name, with or without a qualifier', () => {
    const topic = newTopic('t', new Map(), PARTITION);
    expect(subscribedFunction(newSubscription(topic, 'arn:aws:lambda:eu-west-1:123456789012:function:complete'))).toBe('complete');
    expect(subscribedFunction(newSubscription(topic, 'arn:aws:lambda:eu-west-1:123456789012:function:complete:live'))).toBe('complete');
  });

  it('builds one envelope per subscriber: same message and signature, the subscriber\'s own ARNs', () => {
    const topic = newTopic('t', new Map(), PARTITION);
    const a = newSubscription(topic, 'arn:aws:lambda:eu-west-1:123456789012:function:a');
    const b = newSubscription(topic, 'arn:aws:lambda:eu-west-1:123456789012:function:b');
    const notification: Notification = { messageId: 'm-1', topicArn: topic.arn, subject: undefined, message: 'hi', timestamp: '2026-01-01T00:00:00.000Z', attributes: {} };
    const [ra, rb] = [lambdaEvent(notification, a, PARTITION.region).Records[0]!, lambdaEvent(notification, b, PARTITION.region).Records[0]!];
    expect(ra.Sns.Signature).toBe(rb.Sns.Signature);
    expect(ra.Sns.Subject).toBeNull();
    expect([ra.EventSubscriptionArn, rb.EventSubscriptionArn]).toEqual([a.arn, b.arn]);
    expect(rb.Sns.UnsubscribeUrl).toBe(`https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${b.arn}`);
  });
});

describe('SnsProvider pagination and unsubscribe', () => {
  const store = new SqliteSnsStore(LocalDatabase.open(undefined));
  const provider = new SnsProvider({
    partition: PARTITION,
    store,
    lambda: { invoke: () => Promise.reject(new Error('unused')), invokeAsync: () => undefined },
    clock: new ManualClock(),
  });
  let edge: EdgeServer;
  let sns: SNSClient;

  beforeAll(async () => {
    for (let i = 0; i < 150; i++) provider.createTopic(`topic-${String(i).padStart(3, '0')}`);
    edge = new EdgeServer({ services: [provider.handler], port: 0, region: PARTITION.region });
    sns = new SNSClient({ endpoint: await edge.listen(), region: PARTITION.region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  });
  afterAll(async () => {
    sns.destroy();
    await edge.close();
  });

  it('pages ListTopics by 100 and rejects a token it did not issue', async () => {
    const first = await sns.send(new ListTopicsCommand({}));
    expect(first.Topics).toHaveLength(100);
    const second = await sns.send(new ListTopicsCommand({ NextToken: first.NextToken! }));
    expect(second.Topics).toHaveLength(50);
    expect(second.NextToken).toBeUndefined();
    expect(second.Topics![0]!.TopicArn).toBe('arn:aws:sns:eu-west-1:123456789012:topic-100');
    await expect(sns.send(new ListTopicsCommand({ NextToken: 'forged' }))).rejects.toMatchObject({ name: 'InvalidParameterException', message: expect.stringContaining('NextToken') });
  });

  it('unsubscribes once, then answers NotFound', async () => {
    const topic = provider.createTopic('topic-000');
    const { arn } = provider.subscribe(topic, 'arn:aws:lambda:eu-west-1:123456789012:function:f');
    await sns.send(new UnsubscribeCommand({ SubscriptionArn: arn }));
    expect(topic.subscriptions).toEqual([]);
    await expect(sns.send(new UnsubscribeCommand({ SubscriptionArn: arn }))).rejects.toMatchObject({ name: 'NotFoundException' });
  });
});
