/**
 * The console's AWS SDK v3 clients. It is a client of the APIs, never of the emulators' insides:
 * with no endpoint given the SDK's own resolution applies, so the same console reads a real account.
 */
import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface ConsoleClients {
  readonly sfn: SFNClient;
  readonly s3: S3Client;
  readonly cloudwatch: CloudWatchClient;
  readonly autoscaling: ApplicationAutoScalingClient;
  readonly sagemaker: SageMakerClient;
  readonly dynamodb: DynamoDBDocumentClient;
  destroy(): void;
}

export interface ClientOptions {
  /** The local cloud's edge; omit for AWS. */
  readonly endpoint?: string;
  readonly region: string;
}

export function consoleClients({ endpoint, region }: ClientOptions): ConsoleClients {
  const local = endpoint !== undefined;
  const config = {
    region,
    ...(local ? { endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  };
  const sfn = new SFNClient(config);
  const s3 = new S3Client({ ...config, forcePathStyle: local });
  const cloudwatch = new CloudWatchClient(config);
  const autoscaling = new ApplicationAutoScalingClient(config);
  const sagemaker = new SageMakerClient(config);
  const raw = new DynamoDBClient(config);
  return {
    sfn,
    s3,
    cloudwatch,
    autoscaling,
    sagemaker,
    dynamodb: DynamoDBDocumentClient.from(raw),
    destroy() {
      for (const client of [sfn, s3, cloudwatch, autoscaling, sagemaker, raw]) client.destroy();
    },
  };
}
