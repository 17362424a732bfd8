/**
 * A task core's client that answers one kind of command with the error the real service sends when
 * it throttles, and passes everything else through to the local cloud. The errors are the SDK's own
 * exception classes with the status and fault the service puts on the wire.
 */
import { S3ServiceException } from '@aws-sdk/client-s3';
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';

/** DynamoDB's answer to a request over the table's throughput (HTTP 400, retryable). */
export const ddbThrottled = (): Error =>
  new ProvisionedThroughputExceededException({
    message: 'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
    $metadata: { httpStatusCode: 400 },
  });

/** S3's answer when a prefix gets requests faster than it serves them (HTTP 503). */
export const s3SlowDown = (): Error =>
  new S3ServiceException({ name: 'SlowDown', $fault: 'server', message: 'Please reduce your request rate.', $metadata: { httpStatusCode: 503 } });

/**
 * `client` with its `name` commands (SDK command class name) rejected with `error()` while
 * `when(input)` holds; the failed commands are not sent.
 */
export function failing<C extends { send: (...args: never[]) => Promise<unknown> }>(
  client: C,
  name: string,
  error: () => Error,
  when: (input: Record<string, unknown>) => boolean = () => true,
): C {
  const send = client.send.bind(client) as (command: { input: object }, ...rest: unknown[]) => Promise<unknown>;
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver) as unknown;
      return async (command: { input: object }, ...rest: unknown[]) => {
        if (command.constructor.name === name && when(command.input as Record<string, unknown>)) throw error();
        return send(command, ...rest);
      };
    },
  });
}
