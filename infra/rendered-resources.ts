/**
 * The resources a stack rendered from the topology, by topology name. The stack fills these maps;
 * the constructs that act on the rendered whole (observability, cdk-nag acknowledgements) read them
 * through this interface instead of importing the stack.
 */
import type { Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { AsyncEndpoint } from './constructs/async-endpoint';
import type { TaskFunction } from './constructs/task-function';

export interface RenderedResources extends Stack {
  readonly buses: ReadonlyMap<string, events.EventBus>;
  readonly rules: ReadonlyMap<string, events.Rule>;
  readonly stateMachines: ReadonlyMap<string, sfn.StateMachine>;
  readonly functions: ReadonlyMap<string, TaskFunction>;
  readonly topics: ReadonlyMap<string, sns.Topic>;
  readonly buckets: ReadonlyMap<string, s3.Bucket>;
  readonly tables: ReadonlyMap<string, dynamodb.Table>;
  readonly endpoints: ReadonlyMap<string, AsyncEndpoint>;
  /** Dead-letter queues of rule targets and topic subscriptions (watched by one alarm each). */
  readonly deadLetterQueues: ReadonlyMap<string, sqs.Queue>;
}
