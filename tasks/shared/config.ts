/**
 * Environment configuration, read once per cold start. A missing or malformed variable fails the
 * function at start-up with the variable's name, instead of failing later inside a request.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

export function requireString(name: string, env: Env = process.env): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigError(`environment variable ${name} is required but not set`);
  }
  return value.trim();
}

export function requireInt(name: string, min: number, max: number, env: Env = process.env): number {
  const raw = requireString(name, env);
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`environment variable ${name} must be an integer from ${min} to ${max} (got "${raw}")`);
  }
  return value;
}

export function requirePositiveNumber(name: string, env: Env = process.env): number {
  const raw = requireString(name, env);
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new ConfigError(`environment variable ${name} must be a positive number (got "${raw}")`);
  return value;
}

/** `WIDTHxHEIGHT` pairs, comma separated, e.g. `1024x1024,768x1344`. */
export function requireSizes(name: string, env: Env = process.env): readonly string[] {
  const raw = requireString(name, env);
  const sizes = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const size of sizes) {
    if (!/^\d+x\d+$/.test(size)) {
      throw new ConfigError(`environment variable ${name} must list WIDTHxHEIGHT pairs separated by commas (got "${size}")`);
    }
  }
  if (sizes.length === 0) throw new ConfigError(`environment variable ${name} must list at least one WIDTHxHEIGHT pair`);
  return sizes;
}

/** What every task that starts, retries or settles an inference attempt reads. */
export interface AttemptConfig {
  readonly bucket: string;
  readonly tableName: string;
  readonly endpointName: string;
  readonly requestTtlSeconds: number;
  readonly invocationTimeoutSeconds: number;
  /** New attempts after a transient failure before the waiters fail. */
  readonly inferenceRetries: number;
  /** Seconds after an attempt starts before the reconciler first looks at it. */
  readonly reconcileAfterSeconds: number;
}

export function readAttemptConfig(env: Env = process.env): AttemptConfig {
  return {
    bucket: requireString('IMAGES_BUCKET', env),
    tableName: requireString('TABLE_NAME', env),
    endpointName: requireString('ENDPOINT_NAME', env),
    requestTtlSeconds: requireInt('REQUEST_TTL_SECONDS', 60, 21600, env),
    invocationTimeoutSeconds: requireInt('INVOCATION_TIMEOUT_SECONDS', 1, 3600, env),
    inferenceRetries: requireInt('INFERENCE_RETRIES', 0, 5, env),
    reconcileAfterSeconds: requireInt('RECONCILE_AFTER_SECONDS', 1, 3600, env),
  };
}

export interface ResolveConfig extends AttemptConfig {
  readonly modelId: string;
  readonly supportedSizes: readonly string[];
}

export function readResolveConfig(env: Env = process.env): ResolveConfig {
  return {
    ...readAttemptConfig(env),
    modelId: requireString('MODEL_ID', env),
    supportedSizes: requireSizes('SUPPORTED_SIZES', env),
  };
}

/** Complete and the reconciler settle attempts, and start the retries. */
export type SettleConfig = AttemptConfig;

export const readSettleConfig = readAttemptConfig;

export interface ReportFailureConfig {
  /** Bus name or ARN; PutEvents accepts either. */
  readonly eventBusName: string;
}

export function readReportFailureConfig(env: Env = process.env): ReportFailureConfig {
  return { eventBusName: requireString('EVENT_BUS_NAME', env) };
}
