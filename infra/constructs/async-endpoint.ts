import { Aws, Fn } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { EndpointSpec, S3Location } from '../../topology/topology';
import { markTopology, type RenderedResource } from '../topology-registry';

export interface AsyncEndpointProps {
  readonly spec: EndpointSpec;
  /** Container image URI. @default spec.container.image */
  readonly image?: string;
  /** `s3://bucket/key.tar.gz` of the compiled model (a stack parameter's value). */
  readonly modelArtifactsS3Uri: string;
  /** Resolves a topology bucket name to its deployed bucket. */
  readonly bucket: (name: string) => RenderedResource;
  readonly successTopic: sns.ITopic;
  readonly errorTopic: sns.ITopic;
  /** Key that encrypts both topics: SageMaker's publish needs it. */
  readonly topicKey: kms.IKey;
}

/**
 * A SageMaker asynchronous endpoint (model, endpoint config, endpoint) with an execution role
 * that can read the model and the staged inputs, write outputs and failures, and publish the
 * two notifications — nothing else.
 */
export class AsyncEndpoint extends Construct {
  public readonly executionRole: iam.Role;
  public readonly model: sagemaker.CfnModel;
  public readonly endpointConfig: sagemaker.CfnEndpointConfig;
  public readonly endpoint: sagemaker.CfnEndpoint;

  constructor(scope: Construct, id: string, props: AsyncEndpointProps) {
    super(scope, id);
    const { spec } = props;
    const image = props.image ?? spec.container.image;
    const s3Uri = (loc: S3Location) => `s3://${props.bucket(loc.bucket).name}/${loc.prefix}`;
    const objects = (loc: S3Location) => `${props.bucket(loc.bucket).arn}/${loc.prefix}*`;

    const policy = new iam.Policy(this, 'ExecutionPolicy', {
      statements: [
        new iam.PolicyStatement({
          sid: 'ReadModelArtifacts',
          actions: ['s3:GetObject'],
          // s3://bucket/key → arn:aws:s3:::bucket/key
          resources: [Fn.join('', [`arn:${Aws.PARTITION}:s3:::`, Fn.select(1, Fn.split('s3://', props.modelArtifactsS3Uri))])],
        }),
        ...(spec.async.input
          ? [new iam.PolicyStatement({ sid: 'ReadInputs', actions: ['s3:GetObject'], resources: [objects(spec.async.input)] })]
          : []),
        new iam.PolicyStatement({
          sid: 'WriteOutputsAndFailures',
          actions: ['s3:PutObject'],
          resources: [objects(spec.async.output), objects(spec.async.failure)],
        }),
        new iam.PolicyStatement({
          sid: 'Notify',
          actions: ['sns:Publish'],
          resources: [props.successTopic.topicArn, props.errorTopic.topicArn],
        }),
        new iam.PolicyStatement({
          sid: 'EncryptNotifications',
          actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
          resources: [props.topicKey.keyArn],
        }),
        new iam.PolicyStatement({
          sid: 'PullImage',
          actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
          resources: [ecrRepositoryArn(image)],
        }),
        new iam.PolicyStatement({ sid: 'EcrLogin', actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }),
        new iam.PolicyStatement({
          sid: 'EndpointLogs',
          actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
          resources: [`arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:/aws/sagemaker/Endpoints/${spec.name}:*`],
        }),
        new iam.PolicyStatement({ sid: 'EndpointMetrics', actions: ['cloudwatch:PutMetricData'], resources: ['*'] }),
      ],
    });
    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: `${spec.name}: model artifacts, staged inputs, outputs, notifications`,
    });
    policy.attachToRole(this.executionRole);

    this.model = new sagemaker.CfnModel(this, 'Model', {
      executionRoleArn: this.executionRole.roleArn,
      primaryContainer: {
        image,
        modelDataUrl: props.modelArtifactsS3Uri,
        environment: { ...spec.container.environment },
      },
    });
    this.model.node.addDependency(policy);

    // Model and config are auto-named: every change replaces them, and a fixed name would collide.
    this.endpointConfig = new sagemaker.CfnEndpointConfig(this, 'Config', {
      productionVariants: [
        {
          variantName: spec.variantName,
          modelName: this.model.attrModelName,
          instanceType: spec.instanceType,
          initialInstanceCount: spec.initialInstanceCount,
          ...(spec.startup.volumeSizeGb !== undefined && { volumeSizeInGb: spec.startup.volumeSizeGb }),
          modelDataDownloadTimeoutInSeconds: spec.startup.modelDataDownloadTimeoutSeconds,
          containerStartupHealthCheckTimeoutInSeconds: spec.startup.containerStartupHealthCheckTimeoutSeconds,
        },
      ],
      asyncInferenceConfig: {
        outputConfig: {
          s3OutputPath: s3Uri(spec.async.output),
          s3FailurePath: s3Uri(spec.async.failure),
          notificationConfig: { successTopic: props.successTopic.topicArn, errorTopic: props.errorTopic.topicArn },
        },
        clientConfig: { maxConcurrentInvocationsPerInstance: spec.maxConcurrentInvocationsPerInstance },
      },
    });

    this.endpoint = new sagemaker.CfnEndpoint(this, 'Endpoint', {
      endpointName: spec.name,
      endpointConfigName: this.endpointConfig.attrEndpointConfigName,
    });
    // Creation checks the role's access to the topics and the bucket: the policy must exist first.
    this.endpoint.node.addDependency(policy);
    markTopology(this.endpoint, 'endpoint', spec.name);
  }
}

/** `<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>` → the repository's ARN. */
export function ecrRepositoryArn(image: string): string {
  const match = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)(?:[:@].+)?$/.exec(image);
  if (!match) throw new Error(`container image "${image}" is not an ECR image URI (<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>)`);
  const [, account, region, repository] = match;
  return `arn:${Aws.PARTITION}:ecr:${region}:${account}:repository/${repository}`;
}
