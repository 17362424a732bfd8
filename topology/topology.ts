/**
 * The topology: every named resource of an imagegen deployment and how they are wired.
 *
 * One typed value of `Topology` is the single source of names and wiring. `infra/` renders it as
 * CDK resources and `local/` instantiates it as emulated services; a parity test proves the two agree.
 * Cross-resource references are `Ref`s, resolved by each renderer (an ARN or name locally,
 * `Ref`/`Fn::GetAtt` in CloudFormation), so no renderer hard-codes another's names.
 */

export type ResourceKind = 'bus' | 'rule' | 'stateMachine' | 'function' | 'topic' | 'bucket' | 'table' | 'endpoint';

/** A reference to another resource of the topology; `attr` picks what is substituted. */
export interface Ref {
  readonly kind: ResourceKind;
  readonly name: string;
  readonly attr: 'name' | 'arn';
}

/** An environment value: a literal, or a reference resolved by the renderer. */
export type EnvValue = string | Ref;

/** EventBridge event pattern (the documented pattern language, as JSON). */
export type EventPattern = { readonly [field: string]: unknown };

export interface BusSpec {
  readonly name: string;
  /** Archive events matching this pattern for replay. @default no archive */
  readonly archive?: { readonly name: string; readonly retentionDays: number; readonly eventPattern: EventPattern };
}

export interface InputTransformerSpec {
  readonly inputPathsMap?: Readonly<Record<string, string>>;
  readonly inputTemplate: string;
}

export type TargetSpec =
  | {
      readonly kind: 'stateMachine';
      readonly name: string;
      readonly input?: string;
      readonly inputPath?: string;
      readonly inputTransformer?: InputTransformerSpec;
    }
  | {
      readonly kind: 'function';
      readonly name: string;
      readonly input?: string;
      readonly inputPath?: string;
      readonly inputTransformer?: InputTransformerSpec;
    };

/** A rule matches events on a bus (`eventPattern`) or fires on a schedule (`schedule`, default bus). */
export interface RuleSpec {
  readonly name: string;
  /** Bus the rule listens on. @default 'default' */
  readonly bus?: string;
  readonly eventPattern?: EventPattern;
  /** `rate(...)` or `cron(...)`. */
  readonly schedule?: string;
  readonly targets: readonly TargetSpec[];
  /** Retry policy for delivery to targets. @default 24 h, 185 attempts (EventBridge default) */
  readonly retryPolicy?: { readonly maximumEventAgeSeconds: number; readonly maximumRetryAttempts: number };
}

export interface StateMachineSpec {
  readonly name: string;
  readonly type: 'STANDARD';
  /** ASL file, relative to the repository root. */
  readonly definitionFile: string;
  /** `${Key}` placeholders in the ASL and what replaces them. */
  readonly substitutions: Readonly<Record<string, Ref>>;
  /**
   * Numbers derived from the configuration, written in the ASL as the string `"${Key}"` (so the file
   * stays JSON) and rendered as the bare number before deployment or local execution.
   */
  readonly values?: Readonly<Record<string, number>>;
}

export class DefinitionValueError extends Error {
  override readonly name = 'DefinitionValueError';
}

/**
 * Replaces each `"${Key}"` of `values`, quotes included, with the number: `"TimeoutSeconds": "${X}"`
 * becomes `"TimeoutSeconds": 5100`. Every value must be used and be a positive integer; the ARN
 * placeholders (`substitutions`) are left for the renderer.
 */
export function renderDefinitionValues(definition: string, values: Readonly<Record<string, number>> = {}): string {
  let rendered = definition;
  for (const [key, value] of Object.entries(values)) {
    if (!Number.isSafeInteger(value) || value <= 0) throw new DefinitionValueError(`definition value ${key} must be a positive integer, got ${value}`);
    const placeholder = `"\${${key}}"`;
    if (!rendered.includes(placeholder)) throw new DefinitionValueError(`the definition has no ${placeholder} for the value ${key}`);
    rendered = rendered.split(placeholder).join(String(value));
  }
  return rendered;
}

/** What a function may do, for least-privilege IAM and for documentation. */
export type Permission =
  | { readonly kind: 'bucket'; readonly name: string; readonly access: 'read' | 'write' | 'readWrite'; readonly prefixes: readonly string[] }
  | { readonly kind: 'table'; readonly name: string; readonly access: 'read' | 'readWrite' }
  | { readonly kind: 'bus'; readonly name: string; readonly access: 'putEvents' }
  | { readonly kind: 'endpoint'; readonly name: string; readonly access: 'invokeAsync' | 'describe' }
  | { readonly kind: 'stateMachine'; readonly name: string; readonly access: 'sendTaskResult' }
  | { readonly kind: 'metrics'; readonly access: 'read' | 'put'; readonly namespaces?: readonly string[] };

export interface FunctionSpec {
  readonly name: string;
  /** Handler module, relative to the repository root, e.g. `tasks/resolve/handler.ts`. */
  readonly entry: string;
  /** Exported handler function name. */
  readonly handler: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  readonly environment: Readonly<Record<string, EnvValue>>;
  readonly permissions: readonly Permission[];
  /** Asynchronous invocation retries (0–2). @default 2 */
  readonly maxAsyncRetries?: number;
}

export interface TopicSpec {
  readonly name: string;
  readonly subscriptions: readonly { readonly protocol: 'lambda'; readonly function: string }[];
}

export interface BucketSpec {
  readonly name: string;
  /** Named prefixes (each ends with `/`). */
  readonly prefixes: Readonly<Record<string, string>>;
  /** Objects under `prefix` expire after `days`. */
  readonly lifecycle: readonly { readonly prefix: string; readonly days: number }[];
}

export interface TableSpec {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  readonly ttlAttribute?: string;
}

export interface S3Location {
  readonly bucket: string;
  readonly prefix: string;
}

export interface ScheduledActionSpec {
  readonly name: string;
  /** `cron(...)`, `rate(...)` or `at(...)`, in `timezone`. */
  readonly schedule: string;
  readonly timezone: string;
  readonly minCapacity: number;
  readonly maxCapacity: number;
}

export interface ScalingSpec {
  readonly minCapacity: number;
  readonly maxCapacity: number;
  /** Target tracking on the published utilization metric. */
  readonly targetTracking: {
    readonly namespace: string;
    readonly metricName: string;
    readonly targetValue: number;
    readonly scaleOutCooldownSeconds: number;
    readonly scaleInCooldownSeconds: number;
    /** The publisher counts the backlog as demand spread over this many seconds. */
    readonly drainSeconds: number;
    /**
     * The publisher's arrivals: the evaluated minute's plus the rise of the last `windowPeriods`
     * minutes beyond `noiseSharePerPeriod` of their mean, carried `horizonPeriods` minutes forward
     * (tasks/publish-utilization/forecast.ts).
     */
    readonly forecast: { readonly horizonPeriods: number; readonly windowPeriods: number; readonly noiseSharePerPeriod: number };
  };
  /**
   * Step scaling out of zero (target tracking cannot: ceil(0 × anything) = 0). The alarm watches
   * `IF(HasBacklogWithoutCapacity >= 1, ApproximateBacklogSize, 0)` — the backlog, counted only while no
   * instance serves — and each step adds instances sized to the backlog seen (AWS StepAdjustments).
   */
  readonly scaleFromZero: {
    readonly evaluationPeriods: number;
    readonly periodSeconds: number;
    /** Backlog at which the alarm fires (≥ this). */
    readonly threshold: number;
    /** Ascending; `backlogAtLeast` of the first equals `threshold`; each step runs to the next one's bound. */
    readonly steps: readonly { readonly backlogAtLeast: number; readonly adjustment: number }[];
    readonly cooldownSeconds: number;
  };
  /**
   * Step scaling out beside target tracking: the published utilization ≥ `threshold` for
   * `evaluationPeriods` one-minute datapoints → PercentChangeInCapacity by the step the value reaches,
   * where target tracking would wait for 3 datapoints. It cannot act at zero instances (a percentage of 0).
   */
  readonly stepScaleOut: {
    readonly threshold: number;
    readonly evaluationPeriods: number;
    readonly periodSeconds: number;
    readonly cooldownSeconds: number;
    /** How the breaching datapoints combine into the value that picks the step (MetricAggregationType). */
    readonly metricAggregationType: 'Average' | 'Maximum';
    /** Ascending; the first `utilizationAtLeast` equals `threshold`; percentChange > 0. */
    readonly steps: readonly { readonly utilizationAtLeast: number; readonly percentChange: number }[];
  };
  /**
   * Step scaling in beside target tracking: the published utilization below `threshold` for
   * `evaluationPeriods` one-minute datapoints → PercentChangeInCapacity by the step the value falls in.
   * Target tracking's own scale-in needs 15 datapoints; this one acts once the work is done.
   */
  readonly stepScaleIn: {
    readonly threshold: number;
    readonly evaluationPeriods: number;
    readonly periodSeconds: number;
    /** A datapoint breaches only while at least this many instances serve: the last go by target tracking. */
    readonly instancesAtLeast: number;
    readonly cooldownSeconds: number;
    /** From the threshold down: the first `utilizationBelow` equals `threshold`; percentChange < 0. */
    readonly steps: readonly { readonly utilizationBelow: number; readonly percentChange: number }[];
  };
  readonly scheduledActions: readonly ScheduledActionSpec[];
}

/** Metric math of the scale-from-zero alarm over `hbwc` (HasBacklogWithoutCapacity, Average) and `backlog` (ApproximateBacklogSize, Maximum). */
export const SCALE_FROM_ZERO_EXPRESSION = 'IF(hbwc >= 1, backlog, 0)';

/**
 * Metric math of the step scale-in alarm over `utilization` (the published metric, Average) and
 * `instances` (CPUUtilization SampleCount): with fewer than `instancesAtLeast` in service the value is
 * the threshold itself, which does not breach a LessThanThreshold alarm. A minute with no published
 * utilization yet has no datapoint (IF keeps only the minutes both sides have), so the alarm reads
 * the most recent real ones: `FILL(utilization, 0)` would read the minutes the publisher has not
 * described yet as idle and scale in. The instance count of a minute may land after its utilization
 * was published: `REPEAT` carries the latest count forward, where `FILL(instances, 0)` would read it
 * as zero instances and the alarm could never breach.
 */
export function stepScaleInExpression(spec: ScalingSpec['stepScaleIn']): string {
  return `IF(FILL(instances, REPEAT) >= ${spec.instancesAtLeast}, utilization, ${spec.threshold})`;
}

export interface EndpointSpec {
  readonly name: string;
  readonly variantName: string;
  readonly instanceType: string;
  readonly initialInstanceCount: number;
  readonly maxConcurrentInvocationsPerInstance: number;
  /** Model identity, part of every cache key: a different model never serves another's images. */
  readonly modelId: string;
  readonly container: {
    /** Container image URI on AWS. */
    readonly image: string;
    readonly environment: Readonly<Record<string, string>>;
  };
  /** How long an instance may take to come up; SageMaker fails the deployment (or the scale-out) beyond these. */
  readonly startup: {
    /** EBS volume per instance (GB); absent for instance types with local storage, which reject it. */
    readonly volumeSizeGb?: number;
    readonly modelDataDownloadTimeoutSeconds: number;
    readonly containerStartupHealthCheckTimeoutSeconds: number;
  };
  readonly async: {
    /** Where invokers stage request payloads; the endpoint may read it. @default none */
    readonly input?: S3Location;
    readonly output: S3Location;
    readonly failure: S3Location;
    readonly successTopic: string;
    readonly errorTopic: string;
  };
  readonly scaling: ScalingSpec;
  /** Emulation parameters for the local endpoint. */
  readonly local: {
    /** Seconds for an emulated instance to come into service. */
    readonly instanceStartupSeconds: number;
  };
}

export interface Topology {
  readonly buses: readonly BusSpec[];
  readonly rules: readonly RuleSpec[];
  readonly stateMachines: readonly StateMachineSpec[];
  readonly functions: readonly FunctionSpec[];
  readonly topics: readonly TopicSpec[];
  readonly buckets: readonly BucketSpec[];
  readonly tables: readonly TableSpec[];
  readonly endpoints: readonly EndpointSpec[];
}

/** Shorthand constructors so topology literals read as wiring, not boilerplate. */
export const ref = {
  arn: (kind: ResourceKind, name: string): Ref => ({ kind, name, attr: 'arn' }),
  name: (kind: ResourceKind, name: string): Ref => ({ kind, name, attr: 'name' }),
};

export function isRef(value: EnvValue): value is Ref {
  return typeof value !== 'string';
}

/** Looks a resource up by kind and name, failing loudly on a dangling reference. */
export function findResource<K extends keyof Topology>(
  topology: Topology,
  collection: K,
  name: string,
): Topology[K][number] {
  const found = (topology[collection] as readonly { name: string }[]).find((r) => r.name === name);
  if (!found) throw new Error(`topology has no ${String(collection)} entry named "${name}"`);
  return found as Topology[K][number];
}
