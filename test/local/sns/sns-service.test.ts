import {
  CreateTopicCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  ListTopicsCommand,
  PublishCommand,
  SNSClient,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import { ManualClock } from '../../../local/clock';
import { EdgeServer } from '../../../local/edge/server';
import type { LambdaInvocationResult, LambdaPort } from '../../../local/ports';
import { SnsService, type SnsLambdaEvent } from '../../../local/sns/sns-service';

const ACCOUNT = '000000000000';
const SUCCESS_ARN = `arn:aws:sns:us-east-1:${ACCOUNT}:imagegen-success`;

class RecordingLambda implements LambdaPort {
  readonly calls: { functionName: string; payload: unknown }[] = [];
  invoke(): Promise<LambdaInvocationResult> {
    return Promise.reject(new Error('SNS must invoke Lambda asynchronously'));
  }
  invokeAsync(functionName: string, payload: unknown): void {
    this.calls.push({ functionName, payload });
  }
}

describe('SnsService through the edge', () => {
  let lambda: RecordingLambda;
  let clock: ManualClock;
  let service: SnsService;
  let edge: EdgeServer;
  let sns: SNSClient;

  beforeEach(async () => {
    lambda = new RecordingLambda();
    clock = new ManualClock(Date.parse('2026-03-04T05:06:07.089Z'));
    service = new SnsService({
      region: 'us-east-1',
      account: ACCOUNT,
      topics: [
        { name: 'imagegen-success', subscriptions: [{ protocol: 'lambda', function: 'imagegen-complete' }] },
        { name: 'imagegen-error', subscriptions: [{ protocol: 'lambda', function: 'imagegen-complete' }] },
      ],
      lambda,
      clock,
    });
    edge = new EdgeServer({ services: [service.handler], port: 0, region: 'us-east-1' });
    const url = await edge.listen();
    sns = new SNSClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  });

  afterEach(async () => {
    sns.destroy();
    await edge.close();
  });

  it('delivers a publish to the Lambda subscriber in AWS\'s exact event envelope', async () => {
    const message = JSON.stringify({ invocationStatus: 'Completed', inferenceId: 'abc' });
    const { MessageId } = await sns.send(new PublishCommand({ TopicArn: SUCCESS_ARN, Message: message }));
    expect(lambda.calls).toHaveLength(1);
    const call = lambda.calls[0]!;
    expect(call.functionName).toBe('imagegen-complete');
    const event = call.payload as SnsLambdaEvent;
    const record = event.Records[0]!;
    const subscriptionArn = record.EventSubscriptionArn;
    expect(subscriptionArn).toMatch(new RegExp(`^${SUCCESS_ARN}:[0-9a-f-]{36}$`));
    expect(event).toEqual({
      Records: [
        {
          EventSource: 'aws:sns',
          EventVersion: '1.0',
          EventSubscriptionArn: subscriptionArn,
          Sns: {
            Type: 'Notification',
            MessageId,
            TopicArn: SUCCESS_ARN,
            Subject: null,
            Message: message,
            Timestamp: '2026-03-04T05:06:07.089Z',
            SignatureVersion: '1',
            Signature: expect.stringMatching(/^[A-Za-z0-9+/]+=*$/),
            SigningCertUrl: expect.stringMatching(/^https:\/\/sns\.us-east-1\.amazonaws\.com\/SimpleNotificationService-[0-9a-f]+\.pem$/),
            UnsubscribeUrl: `https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${subscriptionArn}`,
            MessageAttributes: {},
          },
        },
      ],
    });
    expect(Object.keys(record)).toEqual(['EventSource', 'EventVersion', 'EventSubscriptionArn', 'Sns']);
  });

  it('carries Subject and message attributes (String, Number, Binary as base64)', async () => {
    await sns.send(
      new PublishCommand({
        TopicArn: SUCCESS_ARN,
        Message: 'hello',
        Subject: 'Inference result',
        MessageAttributes: {
          kind: { DataType: 'String', StringValue: 'result' },
          count: { DataType: 'Number', StringValue: '3' },
          blob: { DataType: 'Binary', BinaryValue: Buffer.from('bin') },
        },
      }),
    );
    const sent = (lambda.calls[0]!.payload as SnsLambdaEvent).Records[0]!.Sns;
    expect(sent.Subject).toBe('Inference result');
    expect(sent.MessageAttributes).toEqual({
      kind: { Type: 'String', Value: 'result' },
      count: { Type: 'Number', Value: '3' },
      blob: { Type: 'Binary', Value: Buffer.from('bin').toString('base64') },
    });
  });

  it('publishes in process through the TopicPort with the same envelope', async () => {
    const { messageId } = await service.publish(SUCCESS_ARN, '{"a":1}', 'subj');
    const sent = (lambda.calls[0]!.payload as SnsLambdaEvent).Records[0]!.Sns;
    expect(sent).toMatchObject({ MessageId: messageId, Message: '{"a":1}', Subject: 'subj', TopicArn: SUCCESS_ARN });
  });

  it('raises NotFound for an unknown topic', async () => {
    await expect(sns.send(new PublishCommand({ TopicArn: `arn:aws:sns:us-east-1:${ACCOUNT}:nope`, Message: 'x' }))).rejects.toMatchObject({
      name: 'NotFoundException',
      $metadata: { httpStatusCode: 404 },
    });
    await expect(sns.send(new GetTopicAttributesCommand({ TopicArn: `arn:aws:sns:us-east-1:${ACCOUNT}:nope` }))).rejects.toMatchObject({
      name: 'NotFoundException',
    });
    expect(lambda.calls).toEqual([]);
  });

  it('accepts a message of exactly 256 KB and rejects one byte more (counting bytes, not characters)', async () => {
    await sns.send(new PublishCommand({ TopicArn: SUCCESS_ARN, Message: 'x'.repeat(262_144) }));
    const tooLong = sns.send(new PublishCommand({ TopicArn: SUCCESS_ARN, Message: 'é'.repeat(131_073) }));
    await expect(tooLong).rejects.toMatchObject({ name: 'InvalidParameterException', message: expect.stringContaining('Message too long') });
    expect(lambda.calls).toHaveLength(1);
  });

  it('rejects an empty message, a bad subject and a malformed attribute with InvalidParameter', async () => {
    await expect(sns.send(new PublishCommand({ TopicArn: SUCCESS_ARN, Message: '' }))).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await expect(sns.send(new PublishCommand({ TopicArn: SUCCESS_ARN, Message: 'm', Subject: 'two\nlines' }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringContaining('Subject'),
    });
    await expect(
      sns.send(new PublishCommand({ TopicArn: SUCCESS_ARN, Message: 'm', MessageAttributes: { n: { DataType: 'Number', StringValue: 'abc' } } })),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    expect(lambda.calls).toEqual([]);
  });

  it('creates topics idempotently, lists them and reports their attributes', async () => {
    const created = await sns.send(new CreateTopicCommand({ Name: 'extra', Attributes: { DisplayName: 'Extra' } }));
    expect(created.TopicArn).toBe(`arn:aws:sns:us-east-1:${ACCOUNT}:extra`);
    expect((await sns.send(new CreateTopicCommand({ Name: 'extra' }))).TopicArn).toBe(created.TopicArn);
    await expect(sns.send(new CreateTopicCommand({ Name: 'bad name!' }))).rejects.toMatchObject({ name: 'InvalidParameterException' });

    const listed = await sns.send(new ListTopicsCommand({}));
    expect(listed.Topics?.map((t) => t.TopicArn)).toEqual([SUCCESS_ARN, `arn:aws:sns:us-east-1:${ACCOUNT}:imagegen-error`, created.TopicArn]);

    const { Attributes } = await sns.send(new GetTopicAttributesCommand({ TopicArn: created.TopicArn }));
    expect(Attributes).toMatchObject({ TopicArn: created.TopicArn, Owner: ACCOUNT, DisplayName: 'Extra', SubscriptionsConfirmed: '0' });
    expect(JSON.parse(Attributes!.Policy!)).toMatchObject({ Statement: [{ Resource: created.TopicArn }] });
  });

  it('subscribes a Lambda function by ARN, lists the subscription and delivers to it', async () => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'fan-out' }));
    const endpoint = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:listener`;
    const { SubscriptionArn } = await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'lambda', Endpoint: endpoint }));
    expect(SubscriptionArn).toMatch(new RegExp(`^${TopicArn}:`));
    expect((await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'lambda', Endpoint: endpoint }))).SubscriptionArn).toBe(SubscriptionArn);

    const { Subscriptions } = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn }));
    expect(Subscriptions).toEqual([{ SubscriptionArn, Owner: ACCOUNT, Protocol: 'lambda', Endpoint: endpoint, TopicArn }]);

    await sns.send(new PublishCommand({ TopicArn, Message: 'to listener' }));
    expect(lambda.calls.map((c) => c.functionName)).toEqual(['listener']);
    expect((lambda.calls[0]!.payload as SnsLambdaEvent).Records[0]!.EventSubscriptionArn).toBe(SubscriptionArn);

    await expect(sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: 'arn:aws:sqs:us-east-1:000000000000:q' }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
    await expect(sns.send(new SubscribeCommand({ TopicArn, Protocol: 'lambda', Endpoint: 'listener' }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
  });

  it('lists the topology\'s subscriptions with function ARNs', async () => {
    const { Subscriptions } = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: SUCCESS_ARN }));
    expect(Subscriptions?.map((s) => s.Endpoint)).toEqual([`arn:aws:lambda:us-east-1:${ACCOUNT}:function:imagegen-complete`]);
  });
});
