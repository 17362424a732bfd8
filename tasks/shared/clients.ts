/**
 * Default SDK clients, built once per cold start and injected into the cores. Endpoints come from
 * the SDK's own `AWS_ENDPOINT_URL[_<SERVICE>]` handling, which is how the local cloud is reached.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';

export interface Clients {
  readonly s3: S3Client;
  readonly sfn: SFNClient;
  readonly ddb: DynamoDBDocumentClient;
  readonly sagemaker: SageMakerRuntimeClient;
  readonly events: EventBridgeClient;
}

export function createClients(env: Readonly<Record<string, string | undefined>> = process.env): Clients {
  const local = Boolean(env.AWS_ENDPOINT_URL || env.AWS_ENDPOINT_URL_S3);
  return {
    s3: new S3Client({
      // Path-style keeps the bucket out of the host name, which a local endpoint cannot resolve.
      forcePathStyle: local,
      // Checksums only where an operation requires them: no aws-chunked bodies for emulators.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }),
    sfn: new SFNClient({}),
    ddb: DynamoDBDocumentClient.from(new DynamoDBClient({}), {
      marshallOptions: { removeUndefinedValues: true },
    }),
    sagemaker: new SageMakerRuntimeClient({}),
    events: new EventBridgeClient({}),
  };
}

let cached: Clients | undefined;

/** The process-wide clients (created on first use). */
export function defaultClients(): Clients {
  cached ??= createClients();
  return cached;
}
