/**
 * Lambda invocation errors on AWS, the way the local cloud's `crash` fault fails Complete: an AWS FIS
 * experiment template with the `aws:lambda:invocation-error` action, and what the AWS FIS Lambda
 * extension needs on the target function. Names, variables and permissions are those of the AWS FIS
 * User Guide pages "Use the AWS FIS aws:lambda:function actions", "AWS FIS actions reference",
 * "Available versions of the AWS FIS extension for Lambda" and "Experiment logging for AWS FIS".
 */
import { ArnFormat, Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as fis from 'aws-cdk-lib/aws-fis';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { FaultInjectionConfig } from '../config';
import type { TaskFunction } from './task-function';

/** Public SSM parameters holding the extension layer's ARN in each Region, by function architecture. */
export const FIS_EXTENSION_PARAMETERS: Readonly<Record<string, string>> = {
  arm64: '/aws/service/fis/lambda-extension/AWS-FIS-extension-arm64/1.x.x',
  x86_64: '/aws/service/fis/lambda-extension/AWS-FIS-extension-x86_64/1.x.x',
};
/** Where FIS writes the active fault configuration and the extension polls for it. */
export const FIS_CONFIG_PREFIX = 'FisConfigs/';
export const INVOCATION_ERROR_ACTION = 'aws:lambda:invocation-error';
/** The wrapper script shipped in the extension layer. */
export const FIS_EXEC_WRAPPER = '/opt/aws-fis/bootstrap';
/**
 * How long an invocation waits for an in-flight configuration poll. The actions reference recommends
 * a non-zero value (2,000 ms) with `preventExecution`, so a starting experiment is not missed.
 */
export const FIS_POLL_MAX_WAIT_MS = 2000;

export interface FaultInjectionProps {
  /** The function whose invocations fail (Complete). */
  readonly target: TaskFunction;
  /** Its name, as the topology gives it (names the log group and the template). */
  readonly targetName: string;
  /** The action's percentage, duration and preventExecution. */
  readonly settings: FaultInjectionConfig;
  /** Alarms that stop the experiment when they go into ALARM (at most 5, an FIS limit). */
  readonly stopConditions: readonly cloudwatch.IAlarm[];
  /** Bucket that receives the configuration bucket's server access logs. @default no access logs */
  readonly accessLogs?: s3.IBucket;
  /** Retention of the experiment log group. */
  readonly logRetention: logs.RetentionDays;
}

/** The experiment template, its role, the configuration bucket and the extension wired into the target. */
export class FaultInjection extends Construct {
  public readonly template: fis.CfnExperimentTemplate;
  /** The role FIS assumes to run the experiment. */
  public readonly role: iam.Role;
  /** Holds the fault configurations FIS writes under `FisConfigs/` while an experiment runs. */
  public readonly configBucket: s3.Bucket;
  /** Receives the experiment log (one stream per experiment). */
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: FaultInjectionProps) {
    super(scope, id);
    const { target, targetName, settings } = props;
    const fn = target.function;
    if (props.stopConditions.length === 0 || props.stopConditions.length > 5) {
      throw new Error(`an FIS experiment template takes 1–5 stop-condition alarms, got ${props.stopConditions.length}`);
    }
    const parameterName = FIS_EXTENSION_PARAMETERS[fn.architecture.name];
    if (!parameterName) throw new Error(`no AWS FIS extension layer for the ${fn.architecture.name} architecture`);

    // A bucket of its own: FIS writes nothing next to images, and the extension reads nothing else.
    this.configBucket = new s3.Bucket(this, 'ConfigBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      ...(props.accessLogs && { serverAccessLogsBucket: props.accessLogs, serverAccessLogsPrefix: 'fis-config/' }),
      lifecycleRules: [{ id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      // FIS deletes its configurations when an experiment ends, so the bucket is empty between experiments.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const configObjects = this.configBucket.arnForObjects(`${FIS_CONFIG_PREFIX}*`);

    // The extension: layer, wrapper and configuration location, and read access to that location.
    fn.addLayers(lambda.LayerVersion.fromLayerVersionArn(this, 'Extension', ssm.StringParameter.valueForStringParameter(this, parameterName)));
    fn.addEnvironment('AWS_LAMBDA_EXEC_WRAPPER', FIS_EXEC_WRAPPER);
    // An S3 ARN with a trailing slash, e.g. arn:aws:s3:::bucket/FisConfigs/ (not an s3:// URI).
    fn.addEnvironment('AWS_FIS_CONFIGURATION_LOCATION', this.configBucket.arnForObjects(FIS_CONFIG_PREFIX));
    fn.addEnvironment('AWS_FIS_POLL_MAX_WAIT_MILLISECONDS', String(FIS_POLL_MAX_WAIT_MS));
    // Embedded metrics in the aws-fis-extension namespace: the injected faults, next to Complete's own.
    fn.addEnvironment('AWS_FIS_EXTENSION_METRICS', 'all');
    target.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'AllowListingFisConfigLocation',
        actions: ['s3:ListBucket'],
        resources: [this.configBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${FIS_CONFIG_PREFIX}*`] } },
      }),
    );
    target.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'AllowReadingFisConfigs', actions: ['s3:GetObject'], resources: [configObjects] }),
    );

    this.logGroup = new logs.LogGroup(this, 'ExperimentLogs', {
      // Under /aws/vendedlogs/ CloudWatch Logs covers every group with one resource policy (its limit is 10 per Region).
      logGroupName: `/aws/vendedlogs/fis/${targetName}-invocation-errors`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.role = new iam.Role(this, 'Role', {
      description: `AWS FIS experiments on ${targetName}: write the fault configuration, read the target, deliver the log`,
      // Only experiments of this account and Region may use it (confused-deputy protection).
      assumedBy: new iam.ServicePrincipal('fis.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: { 'aws:SourceArn': Stack.of(this).formatArn({ service: 'fis', resource: 'experiment', resourceName: '*' }) },
        },
      }),
    });
    const allow = (sid: string, actions: string[], resources: string[]) =>
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions, resources }));
    allow('AllowFisToWriteAndDeleteFaultConfigurations', ['s3:PutObject', 's3:DeleteObject'], [configObjects]);
    // The guide grants GetFunction on "*"; the one target (and its qualified ARNs) is enough.
    allow('AllowFisToInspectTheTarget', ['lambda:GetFunction'], [fn.functionArn, `${fn.functionArn}:*`]);
    allow('AllowFisToDoTagLookups', ['tag:GetResources'], ['*']);
    // "Logs sent to CloudWatch Logs": CreateLogDelivery has no resource; the others take the log-group wildcard.
    allow('AllowLogDelivery', ['logs:CreateLogDelivery'], ['*']);
    allow(
      'AllowLogDeliveryResourcePolicy',
      ['logs:PutResourcePolicy', 'logs:DescribeResourcePolicies', 'logs:DescribeLogGroups'],
      [Stack.of(this).formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
    );

    this.template = new fis.CfnExperimentTemplate(this, 'Template', {
      description: `Fail ${settings.invocationPercentage}% of ${targetName} invocations for ${settings.duration}; Lambda retries, its DLQ and the reconciler recover`,
      roleArn: this.role.roleArn,
      stopConditions: props.stopConditions.map((alarm) => ({ source: 'aws:cloudwatch:alarm', value: alarm.alarmArn })),
      targets: {
        Complete: { resourceType: 'aws:lambda:function', resourceArns: [fn.functionArn], selectionMode: 'ALL' },
      },
      actions: {
        InvocationErrors: {
          actionId: INVOCATION_ERROR_ACTION,
          description: `Mark ${settings.invocationPercentage}% of invocations as failed`,
          parameters: {
            duration: settings.duration,
            invocationPercentage: String(settings.invocationPercentage),
            preventExecution: String(settings.preventExecution),
          },
          targets: { Functions: 'Complete' },
        },
      },
      logConfiguration: { cloudWatchLogsConfiguration: { LogGroupArn: this.logGroup.logGroupArn }, logSchemaVersion: 2 },
      // A template whose target is gone fails instead of running an experiment on nothing.
      experimentOptions: { accountTargeting: 'single-account', emptyTargetResolutionMode: 'fail' },
      tags: { Name: `${targetName}-invocation-errors` },
    });
    // FIS checks at creation that the role can act; the policy must exist first.
    this.template.node.addDependency(this.role);
  }
}
