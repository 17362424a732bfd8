/**
 * cdk-nag acknowledgements. Each names one finding (`RuleId[finding]`) or one rule on the one
 * construct that raises it, with the reason it is accepted. Anything not listed fails synthesis.
 */
import { Stack, Validations, type CfnResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { Topology } from '../topology/topology';
import { FIS_CONFIG_PREFIX, type FaultInjection } from './constructs/fault-injection';
import type { TaskFunction } from './constructs/task-function';
import type { RenderedResources } from './rendered-resources';

const PLUGIN = 'AwsSolutions';

function ack(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `${PLUGIN}::${id}`, reason });
}

/** cdk-nag's rendering of a bucket-prefix wildcard: `Resource::<LogicalId.Arn>/<prefix>*`. */
function objectWildcard(stack: Stack, bucket: CfnResource, prefix: string): string {
  return `AwsSolutions-IAM5[Resource::<${stack.resolve(bucket.logicalId) as string}.Arn>/${prefix}*]`;
}

export function acknowledgeFindings(stack: RenderedResources, topology: Topology): void {
  for (const spec of topology.functions) {
    const fn = stack.functions.get(spec.name)!;
    const policy = fn.role.node.tryFindChild('DefaultPolicy')!;
    ack(
      fn.function,
      'AwsSolutions-L1',
      'Node.js 22 is the pinned deployment runtime: the tasks, the esbuild target and the linux-arm64 sharp build are tested against it; moving to a newer runtime is a deliberate upgrade, not a drift.',
    );
    for (const p of spec.permissions) {
      if (p.kind !== 'bucket') continue;
      const bucket = stack.buckets.get(p.name)!.node.defaultChild as CfnResource;
      for (const prefix of p.prefixes) {
        ack(
          policy,
          objectWildcard(stack, bucket, prefix),
          `${spec.name} may touch only objects under ${prefix} (its topology grant); the keys below it are content hashes, unknown at deploy time.`,
        );
      }
    }
    if (spec.permissions.some((p) => p.kind === 'metrics')) {
      ack(
        policy,
        'AwsSolutions-IAM5[Resource::*]',
        'cloudwatch:PutMetricData and cloudwatch:GetMetricData have no resource-level permissions; PutMetricData is restricted to the topology namespaces by the cloudwatch:namespace condition.',
      );
    }
  }

  for (const spec of topology.stateMachines) {
    const sm = stack.stateMachines.get(spec.name)!;
    ack(
      sm.role.node.tryFindChild('DefaultPolicy')!,
      'AwsSolutions-IAM5[Resource::*]',
      'X-Ray trace submission and CloudWatch Logs delivery management (logs:*LogDelivery*, logs:DescribeResourcePolicies) accept only "*" as resource (Step Functions logging and tracing requirements).',
    );
  }

  for (const spec of topology.endpoints) {
    const ep = stack.endpoints.get(spec.name)!;
    const policy = ep.node.tryFindChild('ExecutionPolicy')!;
    for (const loc of [spec.async.input, spec.async.output, spec.async.failure]) {
      if (!loc) continue;
      const bucket = stack.buckets.get(loc.bucket)!.node.defaultChild as CfnResource;
      ack(
        policy,
        objectWildcard(stack, bucket, loc.prefix),
        `The endpoint reads staged inputs and writes outputs/failures under ${loc.prefix} only; SageMaker chooses the object names.`,
      );
    }
    ack(
      policy,
      'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      'Publishing to an SSE-KMS topic needs GenerateDataKey (and its WithoutPlaintext variant); the statement is scoped to the one topic key.',
    );
    ack(
      policy,
      'AwsSolutions-IAM5[Resource::*]',
      'ecr:GetAuthorizationToken and cloudwatch:PutMetricData have no resource-level permissions; SageMaker hosting needs both (image pull, endpoint metrics).',
    );
    ack(
      policy,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/Endpoints/${spec.name}:*]`,
      'Log streams are created per instance and container under the endpoint’s own log group; their names are not known in advance.',
    );
  }

  for (const [name, queue] of stack.deadLetterQueues) {
    ack(
      queue,
      'AwsSolutions-SQS3',
      `${name} is itself a dead-letter queue (of an EventBridge target, an SNS subscription or async Lambda invocations); cdk-nag only recognises DLQs named in another queue's RedrivePolicy.`,
    );
  }
}

/** The FIS experiment's role and the extension's read grant on Complete (infra/constructs/fault-injection.ts). */
export function acknowledgeFaultInjectionFindings(stack: Stack, fi: FaultInjection, target: TaskFunction): void {
  const configs = objectWildcard(stack, fi.configBucket.node.defaultChild as CfnResource, FIS_CONFIG_PREFIX);
  const fisPolicy = fi.role.node.tryFindChild('DefaultPolicy')!;
  ack(
    target.role.node.tryFindChild('DefaultPolicy')!,
    configs,
    'The AWS FIS Lambda extension reads the fault configurations FIS writes under FisConfigs/ of its own bucket; FIS names the objects per experiment.',
  );
  ack(fisPolicy, configs, 'FIS writes and deletes one fault configuration per experiment under FisConfigs/ of its own bucket; it names the objects.');
  ack(
    fisPolicy,
    `AwsSolutions-IAM5[Resource::<${stack.resolve((target.function.node.defaultChild as CfnResource).logicalId) as string}.Arn>:*]`,
    'lambda:GetFunction on the one target function, its versions and aliases included (FIS may read a qualified ARN); the AWS FIS guide grants it on "*".',
  );
  ack(
    fisPolicy,
    'AwsSolutions-IAM5[Resource::*]',
    'tag:GetResources (required by every aws:lambda:function action) and logs:CreateLogDelivery (experiment logging) have no resource-level permissions.',
  );
  ack(
    fisPolicy,
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:*]',
    'Setting up experiment log delivery reads and, the first time, writes the CloudWatch Logs resource policy; the CloudWatch Logs guide requires the log-group wildcard for these actions.',
  );
}
