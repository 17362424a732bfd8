/**
 * Normalization, seed derivation and hashing of a request (docs/design.md, "Cache key and seed").
 */
import type { RequestDetail, Rendition } from '../../events/image-generation-requested/schema';
import { DEFAULTS } from '../../events/image-generation-requested/schema';
import { canonicalJson, sha256Hex, sha256Uint32 } from './hash';

export type { Rendition };
export type JsonObject = { [key: string]: unknown };

export interface NormalizedRequest {
  readonly requestId: string;
  readonly prompt: string;
  readonly negativePrompt?: string;
  readonly width: number;
  readonly height: number;
  readonly steps: number;
  readonly guidanceScale: number;
  readonly seed: number;
  readonly renditions: readonly Rendition[];
  readonly metadata?: JsonObject;
}

/** Applies the contract defaults; the default size is the first supported one. */
export function normalize(detail: RequestDetail, modelId: string, supportedSizes: readonly string[]): NormalizedRequest {
  const [dw = 1024, dh = 1024] = (supportedSizes[0] ?? '1024x1024').split('x').map(Number);
  const negativePrompt = detail.negativePrompt?.trim();
  const params = {
    prompt: detail.prompt.trim(),
    ...(negativePrompt ? { negativePrompt } : {}),
    width: detail.width ?? dw,
    height: detail.height ?? dh,
    steps: detail.steps ?? DEFAULTS.steps,
    guidanceScale: detail.guidanceScale ?? DEFAULTS.guidanceScale,
  };
  const seed = detail.seed ?? deriveSeed(modelId, params);
  return {
    requestId: detail.requestId,
    ...params,
    seed,
    renditions: (detail.renditions ?? DEFAULTS.renditions).map((r) => ({ ...r })),
    ...(detail.metadata === undefined ? {} : { metadata: detail.metadata as JsonObject }),
  };
}

/** First 4 bytes of sha256 over the canonical generation parameters without the seed. */
export function deriveSeed(
  modelId: string,
  params: { prompt: string; negativePrompt?: string; width: number; height: number; steps: number; guidanceScale: number },
): number {
  return sha256Uint32(canonicalJson({ modelId, ...params }));
}

/** Identity of the picture: everything that changes pixels, nothing that does not. */
export function cacheKeyOf(modelId: string, r: NormalizedRequest): string {
  return sha256Hex(
    canonicalJson({
      modelId,
      prompt: r.prompt,
      negativePrompt: r.negativePrompt ?? null,
      width: r.width,
      height: r.height,
      steps: r.steps,
      guidanceScale: r.guidanceScale,
      seed: r.seed,
    }),
  );
}

/** Identity of the whole request, for detecting a requestId reused with other content. */
export function contentHashOf(r: NormalizedRequest): string {
  return sha256Hex(canonicalJson(r));
}

/** The model's input document (Hugging Face diffusers request shape). */
export function modelInput(r: NormalizedRequest): object {
  return {
    inputs: r.prompt,
    parameters: {
      ...(r.negativePrompt === undefined ? {} : { negative_prompt: r.negativePrompt }),
      width: r.width,
      height: r.height,
      num_inference_steps: r.steps,
      guidance_scale: r.guidanceScale,
      seed: r.seed,
    },
  };
}
