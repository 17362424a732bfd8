/**
 * Deployment configuration: `defaultConfig` from the topology module, overridden by CDK context
 * (`cdk.json` "context" or `cdk synth -c imagegen:<key>=<value>`). Values are validated once, here,
 * so a bad value fails synthesis with the key's name instead of failing a deployment later.
 */
import type { ScheduledActionSpec } from '../topology/topology';
import { defaultConfig, deriveConcurrency, type ImagegenConfig } from '../topology/imagegen-topology';
import { modelCopiesPerInstance, NEURON_INSTANCE_TYPES } from '../topology/instance-types';

export const CONTEXT_PREFIX = 'imagegen:';

/** Inferentia2 sizes the Neuron-compiled SDXL artifacts can run on. */
export const INF2_INSTANCE_TYPES = Object.keys(NEURON_INSTANCE_TYPES);

/** Settings that follow from others and cannot be set on their own. */
const DERIVED: Partial<Record<keyof ImagegenConfig, string>> = {
  maxConcurrentInvocationsPerInstance: 'the model copies of imagegen:instanceType (its NeuronCores ÷ imagegen:neuronCoresPerModelCopy)',
};

export interface InfraConfig {
  /** Names, model and capacity, as the topology takes them. */
  readonly imagegen: ImagegenConfig;
  /** Scheduled scaling actions (campaign windows, nightly off). @default none */
  readonly scheduledActions: readonly ScheduledActionSpec[];
  /** Default of the `ModelArtifactsS3Uri` stack parameter. @default no default (must be given at deploy) */
  readonly modelArtifactsS3Uri?: string;
  /** Physical name of the images bucket. @default `<topology name>-<account>-<region>` (S3 names are global) */
  readonly bucketPhysicalName?: string;
  /** Overrides the topology's container image (the Neuron DLC registry differs by Region). @default the topology's */
  readonly containerImage?: string;
  /** An existing SNS topic that receives every alarm's ALARM and OK transitions. @default alarms have no actions */
  readonly alarmTopicArn?: string;
  /** Days to keep Lambda, Step Functions and access logs. */
  readonly logRetentionDays: number;
  /** Keep the images bucket and the coordination table when the stack is deleted. */
  readonly retainData: boolean;
  /**
   * Register the endpoint with Application Auto Scaling (target, policies, their alarms). Off only
   * while changing the instance type, which SageMaker refuses for a registered variant (docs/operations.md).
   */
  readonly autoScaling: boolean;
  /**
   * Render the AWS FIS experiment template that fails a share of Complete's invocations, with what
   * the FIS Lambda extension needs on Complete (docs/operations.md, "Rehearse the faults on AWS").
   * @default off: no FIS resource, layer, variable or permission in the template
   */
  readonly faultInjection?: FaultInjectionConfig;
}

export interface FaultInjectionConfig {
  /** The action's `invocationPercentage`: share of Complete's invocations that fail (1–100). */
  readonly invocationPercentage: number;
  /** The action's `duration`, ISO 8601 (PT1M–PT12H). */
  readonly duration: string;
  /** The action's `preventExecution`: fail before the handler runs (true) or after it ran (false). */
  readonly preventExecution: boolean;
}

export const defaultFaultInjection: FaultInjectionConfig = {
  invocationPercentage: 5,
  duration: 'PT10M',
  preventExecution: true,
};

export const defaultInfraConfig: InfraConfig = {
  imagegen: defaultConfig,
  scheduledActions: [],
  logRetentionDays: 30,
  retainData: true,
  autoScaling: true,
};

/** Reads one context value; `undefined` when absent. */
export type ContextReader = (key: string) => unknown;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const SCHEDULE = /^(cron\(.+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\)|at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\))$/;

/** Builds the configuration from context, validating every value it takes. */
export function configFromContext(read: ContextReader): InfraConfig {
  const key = (k: string) => `${CONTEXT_PREFIX}${k}`;
  const overrides: Record<string, unknown> = {};
  for (const [name, fallback] of Object.entries(defaultConfig)) {
    const raw = read(key(name));
    if (raw === undefined) continue;
    const derivedFrom = DERIVED[name as keyof ImagegenConfig];
    if (derivedFrom) throw new ConfigError(`${key(name)} cannot be set: it is ${derivedFrom}`);
    overrides[name] = coerce(key(name), raw, fallback);
  }
  const merged = { ...defaultConfig, ...overrides } as ImagegenConfig;
  validateImagegen(merged);
  const imagegen = deriveConcurrency(merged);

  const scheduledActions = parseScheduledActions(read(key('scheduledActions')));
  const optionalString = (k: string): string | undefined => {
    const raw = read(key(k));
    if (raw === undefined) return undefined;
    if (typeof raw !== 'string' || raw.length === 0) throw new ConfigError(`${key(k)} must be a non-empty string`);
    return raw;
  };
  const modelArtifactsS3Uri = optionalString('modelArtifactsS3Uri');
  if (modelArtifactsS3Uri !== undefined && !MODEL_ARTIFACTS_URI.test(modelArtifactsS3Uri)) {
    throw new ConfigError(`${key('modelArtifactsS3Uri')} must look like s3://bucket/path/model.tar.gz, got "${modelArtifactsS3Uri}"`);
  }
  const bucketPhysicalName = optionalString('bucketPhysicalName');
  if (bucketPhysicalName !== undefined && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucketPhysicalName)) {
    throw new ConfigError(`${key('bucketPhysicalName')} is not a valid S3 bucket name: "${bucketPhysicalName}"`);
  }
  const containerImage = optionalString('containerImage');
  const alarmTopicArn = optionalString('alarmTopicArn');
  if (alarmTopicArn !== undefined && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]+$/.test(alarmTopicArn)) {
    throw new ConfigError(`${key('alarmTopicArn')} must be an SNS topic ARN, got "${alarmTopicArn}"`);
  }
  const logRetentionDays = coerce(key('logRetentionDays'), read(key('logRetentionDays')) ?? defaultInfraConfig.logRetentionDays, 0) as number;
  const retainData = coerceBoolean(key('retainData'), read(key('retainData')) ?? defaultInfraConfig.retainData);
  const autoScaling = coerceBoolean(key('autoScaling'), read(key('autoScaling')) ?? defaultInfraConfig.autoScaling);
  const faultInjection = parseFaultInjection(read);

  return {
    imagegen,
    scheduledActions,
    logRetentionDays,
    retainData,
    autoScaling,
    ...(modelArtifactsS3Uri !== undefined && { modelArtifactsS3Uri }),
    ...(bucketPhysicalName !== undefined && { bucketPhysicalName }),
    ...(containerImage !== undefined && { containerImage }),
    ...(alarmTopicArn !== undefined && { alarmTopicArn }),
    ...(faultInjection !== undefined && { faultInjection }),
  };
}

const ISO_DURATION = /^PT(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/;
/** Other FIS actions document durations from one minute to 12 hours; the Lambda actions state no bound of their own. */
const FAULT_DURATION_SECONDS = { min: 60, max: 12 * 3600 };

// The settings are validated even with the flag off, so a bad value in cdk.json is caught before the day it is used.
function parseFaultInjection(read: ContextReader): FaultInjectionConfig | undefined {
  const key = (k: string) => `${CONTEXT_PREFIX}${k}`;
  const enabled = coerceBoolean(key('faultInjection'), read(key('faultInjection')) ?? false);
  const percentName = key('faultInjectionInvocationPercentage');
  const invocationPercentage = coerce(percentName, read(percentName) ?? defaultFaultInjection.invocationPercentage, 0) as number;
  if (!Number.isInteger(invocationPercentage) || invocationPercentage < 1 || invocationPercentage > 100) {
    throw new ConfigError(`${percentName} must be an integer in 1–100, got ${invocationPercentage}`);
  }
  const durationName = key('faultInjectionDuration');
  const duration = coerce(durationName, read(durationName) ?? defaultFaultInjection.duration, '') as string;
  const parts = ISO_DURATION.exec(duration);
  const seconds = parts ? Number(parts[1] ?? 0) * 3600 + Number(parts[2] ?? 0) * 60 + Number(parts[3] ?? 0) : NaN;
  if (!(seconds >= FAULT_DURATION_SECONDS.min && seconds <= FAULT_DURATION_SECONDS.max)) {
    throw new ConfigError(`${durationName} must be an ISO 8601 duration from PT1M to PT12H (e.g. PT10M), got "${duration}"`);
  }
  const preventName = key('faultInjectionPreventExecution');
  const preventExecution = coerceBoolean(preventName, read(preventName) ?? defaultFaultInjection.preventExecution);
  return enabled ? { invocationPercentage, duration, preventExecution } : undefined;
}

/** `s3://bucket/key.tar.gz`; also the stack parameter's AllowedPattern. */
export const MODEL_ARTIFACTS_URI = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/.+\.tar\.gz$/;

// Context from `-c` arrives as strings; from cdk.json it keeps its JSON type. Coerce to the default's type.
function coerce(name: string, raw: unknown, fallback: unknown): unknown {
  if (typeof fallback === 'number') {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    if (!Number.isFinite(n)) throw new ConfigError(`${name} must be a number, got ${JSON.stringify(raw)}`);
    return n;
  }
  if (Array.isArray(fallback)) {
    const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',').map((s) => s.trim()) : undefined;
    if (!list || list.some((s) => typeof s !== 'string' || s === '')) {
      throw new ConfigError(`${name} must be a list of strings (or a comma-separated string), got ${JSON.stringify(raw)}`);
    }
    return list;
  }
  if (typeof raw !== 'string' || raw === '') throw new ConfigError(`${name} must be a non-empty string, got ${JSON.stringify(raw)}`);
  return raw;
}

function coerceBoolean(name: string, raw: unknown): boolean {
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(raw)}`);
}

function validateImagegen(c: ImagegenConfig): void {
  const k = (name: keyof ImagegenConfig) => `${CONTEXT_PREFIX}${name}`;
  if (!(INF2_INSTANCE_TYPES as readonly string[]).includes(c.instanceType)) {
    throw new ConfigError(`${k('instanceType')} must be one of ${INF2_INSTANCE_TYPES.join(', ')}, got "${c.instanceType}"`);
  }
  const integer = (name: keyof ImagegenConfig, min: number, max: number) => {
    const v = c[name] as number;
    if (!Number.isInteger(v) || v < min || v > max) throw new ConfigError(`${k(name)} must be an integer in ${min}–${max}, got ${v}`);
  };
  integer('minInstances', 0, 1000);
  integer('maxInstances', 1, 1000);
  if (c.maxInstances < c.minInstances) {
    throw new ConfigError(`${k('maxInstances')} (${c.maxInstances}) must be ≥ ${k('minInstances')} (${c.minInstances})`);
  }
  integer('neuronCoresPerModelCopy', 1, 24);
  try {
    modelCopiesPerInstance(c.instanceType, c.neuronCoresPerModelCopy);
  } catch (error) {
    throw new ConfigError(`${k('neuronCoresPerModelCopy')}: ${(error as Error).message}`);
  }
  integer('modelServerTimeoutSeconds', 1, 3600);
  integer('modelVolumeSizeGb', 1, 512);
  integer('modelDataDownloadTimeoutSeconds', 60, 3600);
  integer('containerStartupHealthCheckTimeoutSeconds', 60, 3600);
  integer('requestTtlSeconds', 60, 21600);
  integer('invocationTimeoutSeconds', 1, 3600);
  integer('inferenceRetries', 0, 5);
  integer('reconcileAfterSeconds', 1, 3600);
  integer('scaleOutCooldownSeconds', 0, 3600);
  integer('scaleInCooldownSeconds', 0, 3600);
  integer('drainSeconds', 60, 3600);
  if (!(c.utilizationTarget > 0 && c.utilizationTarget <= 1)) {
    throw new ConfigError(`${k('utilizationTarget')} must be in (0, 1], got ${c.utilizationTarget}`);
  }
  for (const size of c.supportedSizes) {
    if (!/^\d+x\d+$/.test(size)) throw new ConfigError(`${k('supportedSizes')} entries must be WIDTHxHEIGHT, got "${size}"`);
  }
}

function parseScheduledActions(raw: unknown): readonly ScheduledActionSpec[] {
  const name = `${CONTEXT_PREFIX}scheduledActions`;
  if (raw === undefined) return [];
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new ConfigError(`${name} must be a JSON array of {name, schedule, timezone, minCapacity, maxCapacity}`);
    }
  }
  if (!Array.isArray(value)) throw new ConfigError(`${name} must be an array, got ${JSON.stringify(value)}`);
  return value.map((item: unknown, i) => {
    const at = `${name}[${i}]`;
    if (typeof item !== 'object' || item === null) throw new ConfigError(`${at} must be an object`);
    const a = item as Record<string, unknown>;
    if (typeof a.name !== 'string' || !/^[^:/|]{1,256}$/.test(a.name)) {
      throw new ConfigError(`${at}.name must be 1–256 characters without ':', '/' or '|'`);
    }
    if (typeof a.schedule !== 'string' || !SCHEDULE.test(a.schedule)) {
      throw new ConfigError(`${at}.schedule must be cron(...), rate(N unit) or at(yyyy-mm-ddThh:mm:ss), got ${JSON.stringify(a.schedule)}`);
    }
    const timezone = a.timezone ?? 'UTC';
    if (typeof timezone !== 'string' || !isTimeZone(timezone)) {
      throw new ConfigError(`${at}.timezone must be an IANA time zone, got ${JSON.stringify(a.timezone)}`);
    }
    for (const field of ['minCapacity', 'maxCapacity'] as const) {
      const v = a[field];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new ConfigError(`${at}.${field} must be an integer ≥ 0`);
    }
    if ((a.maxCapacity as number) < (a.minCapacity as number)) throw new ConfigError(`${at}.maxCapacity must be ≥ minCapacity`);
    return {
      name: a.name,
      schedule: a.schedule,
      timezone,
      minCapacity: a.minCapacity as number,
      maxCapacity: a.maxCapacity as number,
    };
  });
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
