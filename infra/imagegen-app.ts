import { App, Tags, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { imagegenTopology } from '../topology/imagegen-topology';
import type { ScheduledActionSpec, Topology } from '../topology/topology';
import { configFromContext, type InfraConfig } from './config';
import { ImagegenStack } from './imagegen-stack';

export const STACK_ID = 'Imagegen';

export interface ImagegenApp {
  readonly app: App;
  readonly stack: ImagegenStack;
  readonly config: InfraConfig;
  readonly topology: Topology;
}

/**
 * The CDK app: configuration from context, the topology built from it, one stack, and the
 * AwsSolutions checks (synthesis fails on any finding not acknowledged in infra/nag.ts).
 */
export function createImagegenApp(props: AppProps = {}): ImagegenApp {
  const app = new App(props);
  const config = configFromContext((key) => app.node.tryGetContext(key));
  const topology = withScheduledActions(imagegenTopology(config.imagegen), config.scheduledActions);
  const stack = new ImagegenStack(app, STACK_ID, {
    topology,
    config,
    description: 'imagegen: EventBridge → Step Functions → SageMaker async SDXL on Inferentia2',
    // Environment-agnostic unless the CLI knows the target (bucket names then carry ${AWS::AccountId} tokens).
    ...(process.env.CDK_DEFAULT_ACCOUNT && process.env.CDK_DEFAULT_REGION && {
      env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
    }),
  });
  Tags.of(stack).add('app', 'imagegen');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, config, topology };
}

/** Scheduled actions are deployment configuration; the topology carries them to the renderers. */
function withScheduledActions(topology: Topology, actions: readonly ScheduledActionSpec[]): Topology {
  if (actions.length === 0) return topology;
  return {
    ...topology,
    endpoints: topology.endpoints.map((ep) => ({ ...ep, scaling: { ...ep.scaling, scheduledActions: [...ep.scaling.scheduledActions, ...actions] } })),
  };
}
