/**
 * Least-privilege IAM statements from a function's topology `permissions`.
 * Every statement names the resource (and S3 prefix) it needs; the only `*` resources are
 * the CloudWatch metric actions, which IAM cannot scope to a resource.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Permission } from '../topology/topology';
import type { TopologyRegistry } from './topology-registry';

const TABLE_READ = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'];
const TABLE_WRITE = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

export function statementsFor(permissions: readonly Permission[], registry: TopologyRegistry): iam.PolicyStatement[] {
  return permissions.flatMap((p) => statementsForOne(p, registry));
}

function statementsForOne(p: Permission, registry: TopologyRegistry): iam.PolicyStatement[] {
  switch (p.kind) {
    case 'bucket': {
      const bucketArn = registry.get('bucket', p.name).arn;
      const objects = p.prefixes.map((prefix) => `${bucketArn}/${prefix}*`);
      const actions = [
        ...(p.access === 'read' || p.access === 'readWrite' ? ['s3:GetObject'] : []),
        ...(p.access === 'write' || p.access === 'readWrite' ? ['s3:PutObject'] : []),
      ];
      const statements = [new iam.PolicyStatement({ actions, resources: objects })];
      if (p.access !== 'write') {
        // Without ListBucket a missing key answers 403 instead of 404, and a cache miss looks like a
        // denial. No `s3:prefix` condition: a GET or HEAD has no `s3:prefix` in its request context,
        // so a conditioned grant never applies to it and the 404 would still be a 403.
        statements.push(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucketArn] }));
      }
      return statements;
    }
    case 'table': {
      const tableArn = registry.get('table', p.name).arn;
      const actions = p.access === 'read' ? TABLE_READ : [...TABLE_READ, ...TABLE_WRITE];
      return [new iam.PolicyStatement({ actions, resources: [tableArn] })];
    }
    case 'bus':
      return [new iam.PolicyStatement({ actions: ['events:PutEvents'], resources: [registry.get('bus', p.name).arn] })];
    case 'endpoint':
      return [
        new iam.PolicyStatement({
          actions: [p.access === 'invokeAsync' ? 'sagemaker:InvokeEndpointAsync' : 'sagemaker:DescribeEndpoint'],
          resources: [registry.get('endpoint', p.name).arn],
        }),
      ];
    case 'stateMachine':
      return [
        new iam.PolicyStatement({
          actions: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
          resources: [registry.get('stateMachine', p.name).arn],
        }),
      ];
    case 'metrics':
      if (p.access === 'read') {
        return [new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] })];
      }
      return [
        new iam.PolicyStatement({
          actions: ['cloudwatch:PutMetricData'],
          resources: ['*'],
          ...(p.namespaces && { conditions: { StringEquals: { 'cloudwatch:namespace': [...p.namespaces] } } }),
        }),
      ];
  }
}
