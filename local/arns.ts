/**
 * How the local cloud names things: ARNs in AWS's formats for one region and account, and the
 * resolution of topology `Ref`s to those ARNs or names.
 */
import { isRef, type EnvValue, type Ref, type ResourceKind } from '../topology/topology';

export interface Partition {
  readonly region: string;
  readonly account: string;
}

export function arnOf(kind: ResourceKind, name: string, { region, account }: Partition): string {
  switch (kind) {
    case 'bus':
      return `arn:aws:events:${region}:${account}:event-bus/${name}`;
    case 'rule':
      return `arn:aws:events:${region}:${account}:rule/${name}`;
    case 'stateMachine':
      return `arn:aws:states:${region}:${account}:stateMachine:${name}`;
    case 'function':
      return `arn:aws:lambda:${region}:${account}:function:${name}`;
    case 'topic':
      return `arn:aws:sns:${region}:${account}:${name}`;
    case 'bucket':
      return `arn:aws:s3:::${name}`;
    case 'table':
      return `arn:aws:dynamodb:${region}:${account}:table/${name}`;
    case 'endpoint':
      // SageMaker lower-cases endpoint names in ARNs.
      return `arn:aws:sagemaker:${region}:${account}:endpoint/${name.toLowerCase()}`;
  }
}

export function resolveRef(ref: Ref, partition: Partition): string {
  return ref.attr === 'arn' ? arnOf(ref.kind, ref.name, partition) : ref.name;
}

export function resolveEnv(environment: Readonly<Record<string, EnvValue>>, partition: Partition): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environment).map(([key, value]) => [key, isRef(value) ? resolveRef(value, partition) : value]),
  );
}

/** Replaces `${Key}` placeholders in an ASL document, failing on any left unresolved. */
export function substituteDefinition(definition: string, substitutions: Readonly<Record<string, string>>): string {
  const result = definition.replace(/\$\{([A-Za-z0-9_]+)\}/g, (placeholder, key: string) => substitutions[key] ?? placeholder);
  const missing = /\$\{([A-Za-z0-9_]+)\}/.exec(result);
  if (missing) throw new Error(`state machine definition has no substitution for \${${missing[1]}}`);
  return result;
}
