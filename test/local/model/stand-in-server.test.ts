import sharp from 'sharp';
import {
  parseDiffusersRequest,
  readPngText,
  renderStandInImage,
  STAND_IN_LABEL,
  startStandInModel,
  type StandInModel,
  type StandInParams,
} from '../../../local/model/stand-in-server';

const base: StandInParams = { prompt: 'a lighthouse at dusk', width: 256, height: 192, steps: 20, guidanceScale: 7, seed: 7 };

async function invoke(model: StandInModel, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${model.url}/invocations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

describe('renderStandInImage', () => {
  it('renders byte-identical PNGs for identical parameters', async () => {
    const [a, b] = await Promise.all([renderStandInImage(base), renderStandInImage({ ...base })]);
    expect(a.equals(b)).toBe(true);
  });

  it.each([
    ['prompt', { prompt: 'a red bicycle' }],
    ['negative prompt', { negativePrompt: 'blurry' }],
    ['seed', { seed: 8 }],
    ['steps', { steps: 21 }],
    ['guidance scale', { guidanceScale: 7.5 }],
  ])('renders a different picture when the %s changes', async (_name, change) => {
    const [a, b] = await Promise.all([renderStandInImage(base), renderStandInImage({ ...base, ...change })]);
    const [pa, pb] = await Promise.all([sharp(a).raw().toBuffer(), sharp(b).raw().toBuffer()]);
    expect(pa.equals(pb)).toBe(false);
  });

  it('renders prompts with markup and control characters as text', async () => {
    const png = await renderStandInImage({ ...base, prompt: '<svg> & "quotes"\u0007 </text>\nnext line' });
    expect((await sharp(png).metadata()).width).toBe(256);
  });

  it('renders exactly the requested width and height', async () => {
    const png = await renderStandInImage({ ...base, width: 320, height: 128 });
    const meta = await sharp(png).metadata();
    expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({ format: 'png', width: 320, height: 128 });
  });

  it('labels the PNG as a stand-in in text chunks that sharp can read back', async () => {
    const png = await renderStandInImage({ ...base, prompt: 'café ☕ at noon' });
    const entries = readPngText(png);
    expect(entries).toContainEqual({ keyword: 'Description', text: STAND_IN_LABEL });
    const parameters = entries.find((e) => e.keyword === 'imagegen:parameters');
    expect(JSON.parse(parameters?.text ?? '{}')).toMatchObject({ prompt: 'café ☕ at noon', seed: 7, width: 256, height: 192 });
    const comments = (await sharp(png).metadata()).comments ?? [];
    expect(comments).toContainEqual({ keyword: 'Description', text: STAND_IN_LABEL });
  });
});

describe('parseDiffusersRequest', () => {
  it('applies the contract defaults and derives a seed from the prompt when omitted', () => {
    const a = parseDiffusersRequest({ inputs: 'a cat' });
    expect(a).toMatchObject({ prompt: 'a cat', width: 1024, height: 1024, steps: 30, guidanceScale: 7 });
    expect(parseDiffusersRequest({ inputs: 'a cat' }).seed).toBe(a.seed);
    expect(parseDiffusersRequest({ inputs: 'a dog' }).seed).not.toBe(a.seed);
  });

  it.each([
    [{}, /inputs must be a non-empty prompt/],
    [{ inputs: 'x', parameters: { width: 100 } }, /parameters.width must be a multiple of 8/],
    [{ inputs: 'x', parameters: { height: 4096 } }, /parameters.height must be an integer between 64 and 2048/],
    [{ inputs: 'x', parameters: { num_inference_steps: 0 } }, /num_inference_steps must be an integer between 1 and 500/],
    [{ inputs: 'x', parameters: { guidance_scale: 'high' } }, /guidance_scale must be a number/],
    [{ inputs: 'x', parameters: { seed: -1 } }, /seed must be an integer between 0 and 4294967295/],
    [{ inputs: 'x', parameters: { negative_prompt: 3 } }, /negative_prompt must be a string/],
  ])('rejects %j', (body, message) => {
    expect(() => parseDiffusersRequest(body)).toThrow(message);
  });
});

describe('startStandInModel', () => {
  let model: StandInModel | undefined;
  afterEach(async () => {
    await model?.close();
    model = undefined;
  });

  it('answers GET /ping with 200', async () => {
    model = await startStandInModel({ inferenceMs: 0 });
    expect((await fetch(`${model.url}/ping`)).status).toBe(200);
  });

  it('returns the rendered image as base64 in generated_images', async () => {
    model = await startStandInModel({ inferenceMs: 5 });
    const { status, json } = await invoke(model, {
      inputs: base.prompt,
      parameters: { width: 256, height: 192, num_inference_steps: 20, guidance_scale: 7, seed: 7 },
    });
    expect(status).toBe(200);
    const images = json.generated_images as string[];
    expect(images).toHaveLength(1);
    expect(Buffer.from(images[0] ?? '', 'base64').equals(await renderStandInImage(base))).toBe(true);
  });

  it('takes at least inferenceMs per request', async () => {
    model = await startStandInModel({ inferenceMs: 120 });
    const started = Date.now();
    await invoke(model, { inputs: 'slow', parameters: { width: 64, height: 64 } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
  });

  it('answers bad input with 400 and a message naming the field', async () => {
    model = await startStandInModel({ inferenceMs: 0 });
    expect(await invoke(model, { inputs: 'x', parameters: { width: 65 } })).toEqual({
      status: 400,
      json: { message: 'parameters.width must be a multiple of 8, got 65' },
    });
    const notJson = await invoke(model, '{not json');
    expect(notJson.status).toBe(400);
    expect(notJson.json.message).toMatch(/not valid JSON/);
  });

  it('answers with 500 at the configured error rate', async () => {
    const draws = [0.05, 0.5];
    model = await startStandInModel({ inferenceMs: 0, errorRate: 0.1, random: () => draws.shift() ?? 1 });
    const body = { inputs: 'x', parameters: { width: 64, height: 64 } };
    const first = await invoke(model, body);
    const second = await invoke(model, body);
    expect(first).toEqual({ status: 500, json: { message: 'simulated model failure (stand-in errorRate)' } });
    expect(second.status).toBe(200);
  });

  it('answers unknown routes with 404', async () => {
    model = await startStandInModel({ inferenceMs: 0 });
    expect((await fetch(`${model.url}/predict`, { method: 'POST' })).status).toBe(404);
  });
});
