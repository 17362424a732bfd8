/**
 * The negative prompt is part of the picture: it is trimmed like the prompt, so whitespace around it
 * neither changes the image's cache key nor reaches the model, and a blank one is no negative prompt.
 */
import { cacheKeyOf, modelInput, normalize } from '../../../tasks/shared/request';
import type { RequestDetail } from '../../../events/image-generation-requested/schema';
import { resolveConfig } from '../../workflows/harness';

const { modelId, supportedSizes } = resolveConfig;
const norm = (d: Partial<RequestDetail>) => normalize({ requestId: 'r', prompt: 'a cat', ...d } as RequestDetail, modelId, supportedSizes);

describe('negative prompt', () => {
  it('is trimmed: the same picture, and the model gets the trimmed text', () => {
    const padded = norm({ negativePrompt: '  blurry, dog \n' });
    expect(cacheKeyOf(modelId, padded)).toBe(cacheKeyOf(modelId, norm({ negativePrompt: 'blurry, dog' })));
    expect(modelInput(padded)).toMatchObject({ parameters: { negative_prompt: 'blurry, dog' } });
  });

  it('changes the picture when its text differs', () => {
    expect(cacheKeyOf(modelId, norm({ negativePrompt: 'dog' }))).not.toBe(cacheKeyOf(modelId, norm({ negativePrompt: 'cat' })));
    expect(cacheKeyOf(modelId, norm({ negativePrompt: 'dog' }))).not.toBe(cacheKeyOf(modelId, norm({})));
  });

  it('blank is none: the same picture as without one, and nothing is sent to the model', () => {
    const blank = norm({ negativePrompt: '   ' });
    expect(cacheKeyOf(modelId, blank)).toBe(cacheKeyOf(modelId, norm({})));
    expect(JSON.parse(JSON.stringify(modelInput(blank))) as object).toEqual({
      inputs: 'a cat',
      parameters: { width: 1024, height: 1024, num_inference_steps: 30, guidance_scale: 7, seed: norm({}).seed },
    });
  });
});
