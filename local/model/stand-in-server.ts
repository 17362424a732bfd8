/**
 * A stand-in model container speaking the SageMaker inference container contract (`GET /ping`,
 * `POST /invocations`) with the Hugging Face diffusers request and response shapes, so the local
 * async endpoint can be pointed at it or at any real container URL interchangeably.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { renderStandInImage, STAND_IN_LIMITS, type StandInParams } from './render';

export { renderStandInImage, standInSvg, STAND_IN_LABEL, STAND_IN_LIMITS, type StandInParams } from './render';
export { readPngText, addPngText, type PngTextEntry } from './png-text';

export interface StandInModelOptions {
  /** @default 0 (a free port) */
  readonly port?: number;
  /** Simulated inference time per request. @default 1500 */
  readonly inferenceMs?: number;
  /** Fraction of requests (0..1) answered with a simulated 500. @default 0 */
  readonly errorRate?: number;
  /** Source of randomness for `errorRate`. @default Math.random */
  readonly random?: () => number;
}

export interface StandInModel {
  readonly url: string;
  close(): Promise<void>;
}

/** A diffusers request the stand-in cannot serve; answered with 400. */
export class StandInInputError extends Error {
  override readonly name = 'StandInInputError';
}

/** Contract defaults (README "Request event"), used when a parameter is omitted. */
const DEFAULTS = { width: 1024, height: 1024, steps: 30, guidanceScale: 7 } as const;
const MAX_BODY_BYTES = 1024 * 1024;

function integer(value: unknown, field: string, min: number, max: number, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new StandInInputError(`parameters.${field} must be an integer between ${min} and ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function size(value: unknown, field: string, fallback: number): number {
  const n = integer(value, field, STAND_IN_LIMITS.minSize, STAND_IN_LIMITS.maxSize, fallback);
  if (n % STAND_IN_LIMITS.sizeMultiple !== 0) {
    throw new StandInInputError(`parameters.${field} must be a multiple of ${STAND_IN_LIMITS.sizeMultiple}, got ${n}`);
  }
  return n;
}

/** Parses `{"inputs": prompt, "parameters": {...}}` into render parameters, or throws `StandInInputError`. */
export function parseDiffusersRequest(body: unknown): StandInParams {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new StandInInputError('request body must be a JSON object {"inputs": prompt, "parameters": {...}}');
  }
  const { inputs, parameters = {} } = body as { inputs?: unknown; parameters?: unknown };
  if (typeof inputs !== 'string' || inputs.trim() === '') throw new StandInInputError('inputs must be a non-empty prompt string');
  if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) {
    throw new StandInInputError('parameters must be a JSON object');
  }
  const p = parameters as Record<string, unknown>;
  const negative = p.negative_prompt;
  if (negative !== undefined && negative !== null && typeof negative !== 'string') {
    throw new StandInInputError('parameters.negative_prompt must be a string');
  }
  const guidance = p.guidance_scale ?? DEFAULTS.guidanceScale;
  if (typeof guidance !== 'number' || !Number.isFinite(guidance) || guidance < 0 || guidance > STAND_IN_LIMITS.maxGuidanceScale) {
    throw new StandInInputError(`parameters.guidance_scale must be a number between 0 and ${STAND_IN_LIMITS.maxGuidanceScale}, got ${JSON.stringify(guidance)}`);
  }
  // diffusers draws a random seed when none is given; the stand-in derives one so it stays deterministic.
  const derivedSeed = createHash('sha256').update(inputs).digest().readUInt32BE(0);
  return {
    prompt: inputs,
    ...(typeof negative === 'string' && negative !== '' ? { negativePrompt: negative } : {}),
    width: size(p.width, 'width', DEFAULTS.width),
    height: size(p.height, 'height', DEFAULTS.height),
    steps: integer(p.num_inference_steps, 'num_inference_steps', 1, STAND_IN_LIMITS.maxSteps, DEFAULTS.steps),
    guidanceScale: guidance,
    seed: integer(p.seed, 'seed', 0, STAND_IN_LIMITS.maxSeed, derivedSeed),
  };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    req.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(total > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startStandInModel(options: StandInModelOptions = {}): Promise<StandInModel> {
  const inferenceMs = options.inferenceMs ?? 1500;
  const errorRate = options.errorRate ?? 0;
  const random = options.random ?? Math.random;
  if (!(inferenceMs >= 0)) throw new RangeError(`inferenceMs must be >= 0, got ${inferenceMs}`);
  if (!(errorRate >= 0 && errorRate <= 1)) throw new RangeError(`errorRate must be between 0 and 1, got ${errorRate}`);
  const timers = new Set<NodeJS.Timeout>();

  const wait = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  async function invocations(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    if (raw === undefined) return reply(res, 413, { message: `request body exceeds ${MAX_BODY_BYTES} bytes` });
    let params: StandInParams;
    try {
      params = parseDiffusersRequest(JSON.parse(raw.toString('utf8')) as unknown);
    } catch (error) {
      if (error instanceof SyntaxError) return reply(res, 400, { message: `request body is not valid JSON: ${error.message}` });
      if (error instanceof StandInInputError) return reply(res, 400, { message: error.message });
      throw error;
    }
    const started = Date.now();
    const failing = errorRate > 0 && random() < errorRate;
    const png = failing ? undefined : await renderStandInImage(params);
    await wait(Math.max(0, inferenceMs - (Date.now() - started)));
    if (!png) return reply(res, 500, { message: 'simulated model failure (stand-in errorRate)' });
    reply(res, 200, { generated_images: [png.toString('base64')] });
  }

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const handle = async (): Promise<void> => {
      if (path === '/ping' && (req.method === 'GET' || req.method === 'HEAD')) {
        req.resume();
        return reply(res, 200, { status: 'healthy' });
      }
      if (path === '/invocations' && req.method === 'POST') return invocations(req, res);
      req.resume();
      reply(res, 404, { message: `no route for ${req.method} ${path}; the container serves GET /ping and POST /invocations` });
    };
    handle().catch((error: unknown) => {
      if (res.headersSent) res.destroy();
      else reply(res, 500, { message: `stand-in model error: ${error instanceof Error ? error.message : String(error)}` });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
