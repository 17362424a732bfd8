/** Options shared by the commands that boot the local cloud. */
import { readFileSync } from 'node:fs';
import { FaultRuleError } from '../chaos/rules';
import type { LocalCloudOptions } from '../cloud';
import { normalizeOrigin } from '../edge/guard';

export const cloudOptionSpec = {
  port: { type: 'string' },
  host: { type: 'string' },
  'data-dir': { type: 'string' },
  'model-url': { type: 'string' },
  'inference-ms': { type: 'string' },
  'error-rate': { type: 'string' },
  'startup-seconds': { type: 'string' },
  'metrics-lag-seconds': { type: 'string' },
  'allow-origin': { type: 'string', multiple: true },
  fsync: { type: 'boolean' },
  faults: { type: 'string' },
} as const;

export const cloudOptionHelp = `local cloud options:
  --port N             edge port (default 4566; 0 = any free port)
  --host ADDR          bind address (default 127.0.0.1)
  --data-dir DIR       local state (default .imagegen); what the local cloud acknowledged is on disk
                       before it answers, and survives the process being killed
  --fsync              also sync every commit to the disk, so it survives an OS crash or power
                       loss too (slower)
  --model-url URL      a real SageMaker inference container instead of the stand-in
  --inference-ms N     stand-in model time per image (default 1500)
  --error-rate P       stand-in model failure probability 0..1 (default 0)
  --startup-seconds N  emulated instance start-up time (default from the topology)
  --metrics-lag-seconds N  seconds after a minute closes before the endpoint's metrics of it can
                       be read (default 120, as they land late on AWS)
  --allow-origin URL   a web origin (e.g. http://localhost:3000) allowed to call the local cloud
                       from a browser, besides the console's own; repeatable. Requests from any
                       other origin are refused with 403 (SDKs and the AWS CLI send none)
  --faults FILE        fault injection from the start: a JSON document of rules (API errors, and
                       dropped, duplicated or delayed notifications and events, Lambda crashes and
                       timeouts, model errors, lost inferences; see README "Fault injection").
                       Off by default; read and replaced at runtime with GET/POST
                       /_imagegen/chaos/faults`;

type CloudOptionValues = { [K in Exclude<keyof typeof cloudOptionSpec, 'allow-origin' | 'fsync'>]?: string | undefined } & {
  'allow-origin'?: string[] | undefined;
  fsync?: boolean | undefined;
};

export function cloudOptions(values: CloudOptionValues, defaultPort: number): LocalCloudOptions {
  const standIn: { inferenceMs?: number; errorRate?: number } = {};
  if (values['inference-ms'] !== undefined) standIn.inferenceMs = number('--inference-ms', values['inference-ms'], 0, 3_600_000);
  if (values['error-rate'] !== undefined) standIn.errorRate = number('--error-rate', values['error-rate'], 0, 1);
  return {
    port: values.port === undefined ? defaultPort : number('--port', values.port, 0, 65535),
    ...(values.host === undefined ? {} : { host: values.host }),
    ...(values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] }),
    ...(values['model-url'] === undefined ? {} : { modelUrl: values['model-url'] }),
    ...(values['startup-seconds'] === undefined
      ? {}
      : { instanceStartupSeconds: number('--startup-seconds', values['startup-seconds'], 0, 3600) }),
    ...(values['metrics-lag-seconds'] === undefined
      ? {}
      : { metricsLagSeconds: number('--metrics-lag-seconds', values['metrics-lag-seconds'], 0, 3600) }),
    ...(values['allow-origin'] === undefined ? {} : { allowedOrigins: values['allow-origin'].map(origin) }),
    ...(values.fsync ? { synchronous: 'FULL' as const } : {}),
    ...(values.faults === undefined ? {} : { faults: readFaultsFile(values.faults) }),
    standIn,
  };
}

/** The JSON document `--faults FILE` names; its rules are checked when the local cloud starts (`withFaultsFile`). */
function readFaultsFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`--faults ${file}: cannot be read (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`--faults ${file}: not JSON (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
}

/** Starts the local cloud; a fault rule it refuses is reported against the file that holds it. */
export async function withFaultsFile<T>(file: string | undefined, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    if (file !== undefined && error instanceof FaultRuleError) throw new Error(`--faults ${file}: ${error.message}`, { cause: error });
    throw error;
  }
}

function origin(text: string): string {
  try {
    return normalizeOrigin(text);
  } catch (error) {
    throw new Error(`--allow-origin: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

export function number(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(`${flag} must be a number from ${min} to ${max} (got "${text}")`);
  }
  return value;
}
