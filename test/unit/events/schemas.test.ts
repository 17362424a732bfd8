import { campaignEntries, loadCampaign, loadSample, sampleNames } from '../../../events/samples';
import { parseRequestEvent, requestDetailSchema } from '../../../events/image-generation-requested/schema';
import { succeededDetailSchema } from '../../../events/image-generation-succeeded/schema';
import { failedDetailSchema } from '../../../events/image-generation-failed/schema';

const withDetail = (patch: Record<string, unknown>, drop: string[] = []) => {
  const event = loadSample('image-generation-requested', 'full');
  const detail: Record<string, unknown> = { ...event.detail, ...patch };
  for (const k of drop) delete detail[k];
  return { ...event, detail };
};
const issues = (input: unknown, sizes?: string[]) => {
  const r = parseRequestEvent(input, sizes);
  return r.ok ? [] : r.issues;
};

describe('event samples', () => {
  it.each([
    ['image-generation-requested', ['full', 'minimal']],
    ['image-generation-succeeded', ['hit', 'miss']],
    ['image-generation-failed', ['inference-failed', 'invalid-request', 'timed-out']],
  ] as const)('%s samples all validate', (event, names) => {
    expect(sampleNames(event)).toEqual(names);
    for (const name of names) expect(() => loadSample(event, name)).not.toThrow();
  });

  it('a cache-hit result has no inferenceId timing, a miss has one', () => {
    expect(loadSample('image-generation-succeeded', 'hit').detail.timings.inferenceMs).toBeUndefined();
    expect(loadSample('image-generation-succeeded', 'miss').detail.timings.inferenceMs).toBeGreaterThan(0);
  });
});

describe('request detail validation', () => {
  it.each([
    [{ steps: 250 }, 'detail.steps must be an integer from 1 to 100 (got 250)'],
    [{ steps: 2.5 }, 'detail.steps must be an integer from 1 to 100 (got 2.5)'],
    [{ guidanceScale: 31 }, 'detail.guidanceScale must be a number from 0 to 30 (got 31)'],
    [{ seed: -1 }, 'detail.seed must be an integer from 0 to 4294967295 (got -1)'],
    [{ seed: 4294967296 }, 'detail.seed must be an integer from 0 to 4294967295 (got 4294967296)'],
    [{ requestId: 'has space' }, 'detail.requestId must be 1 to 64 characters of A-Z, a-z, 0-9, ".", "_", ":" or "-" (got "has space")'],
    [{ requestId: 'x'.repeat(65) }, 'detail.requestId must be 1 to 64 characters'],
    [{ prompt: '   ' }, 'detail.prompt must not be empty or only whitespace'],
    [{ prompt: 'p'.repeat(2001) }, 'detail.prompt must be at most 2000 characters after trimming (got 2001)'],
    [{ negativePrompt: 'n'.repeat(2001) }, 'detail.negativePrompt must be at most 2000 characters (got 2001)'],
    [{ renditions: [{ width: 15, format: 'png' }] }, 'detail.renditions[0].width must be an integer from 16 to 2048 (got 15)'],
    [{ renditions: [{ width: 100, format: 'gif' }] }, 'detail.renditions[0].format must be one of png, jpeg, webp, avif (got "gif")'],
    [{ renditions: [{ width: 100, format: 'png', quality: 0 }] }, 'detail.renditions[0].quality must be an integer from 1 to 100 (got 0)'],
    [{ renditions: Array.from({ length: 9 }, () => ({ width: 100, format: 'png' })) }, 'detail.renditions must list at most 8 renditions (got 9)'],
    [{ metadata: { blob: 'x'.repeat(4096) } }, 'detail.metadata must be at most 4096 bytes as JSON'],
    [{ metadata: ['not', 'an', 'object'] }, 'detail.metadata must be a JSON object'],
    [{ width: 512, height: 512 }, 'detail.width and height must be one of the supported sizes 1024x1024 (got 512x512)'],
    [{ colour: 'red' }, 'detail has an unknown field "colour" (unknown fields are rejected)'],
    [{ renditions: [{ width: 100, format: 'png', crop: true }] }, 'detail.renditions[0] has an unknown field "crop"'],
  ])('rejects bad value %# with a message naming the field and bound', (patch, message) => {
    expect(issues(withDetail(patch)).join('\n')).toContain(message);
  });

  it('names missing required fields', () => {
    expect(issues(withDetail({}, ['requestId', 'prompt']))).toEqual(['detail.requestId is required', 'detail.prompt is required']);
  });

  it('accepts the pair when it is one of the configured sizes', () => {
    expect(issues(withDetail({ width: 768, height: 1344 }), ['1024x1024', '768x1344'])).toEqual([]);
    expect(issues(withDetail({ width: 1344, height: 768 }), ['1024x1024', '768x1344']).join()).toContain('(got 1344x768)');
  });

  it('accepts the boundary values', () => {
    const ok = withDetail({ steps: 100, guidanceScale: 0, seed: 4294967295, renditions: [{ width: 2048, format: 'avif', quality: 100 }] });
    expect(issues(ok)).toEqual([]);
    expect(requestDetailSchema().safeParse({ requestId: 'a', prompt: 'b', metadata: { s: 'x'.repeat(4086) } }).success).toBe(true);
  });

  it('rejects a result source, a wrong detail-type and an oversized event', () => {
    const event = loadSample('image-generation-requested', 'minimal');
    expect(issues({ ...event, source: 'imagegen' }).join()).toContain('event.source must not be "imagegen"');
    expect(issues({ ...event, 'detail-type': 'Other' }).join()).toContain('event.detail-type must be "Image Generation Requested" (got "Other")');
    expect(issues({ ...event, resources: ['r'.repeat(262144)] }).join()).toMatch(/the event must be at most 262144 bytes \(256 KB\) as JSON \(got \d+\)/);
  });

  it('result schemas reject unknown fields', () => {
    const hit = loadSample('image-generation-succeeded', 'hit').detail;
    expect(succeededDetailSchema.safeParse({ ...hit, extra: 1 }).success).toBe(false);
    const failed = loadSample('image-generation-failed', 'invalid-request').detail;
    expect(failedDetailSchema.safeParse({ ...failed, error: { ...failed.error, code: 'Oops' } }).success).toBe(false);
  });
});

describe('sample campaign', () => {
  const campaign = loadCampaign();

  it('has at least 20 requests with repeats, varied renditions and exactly one invalid request', () => {
    expect(campaign.requests.length).toBeGreaterThanOrEqual(20);
    const invalid = campaign.requests.filter((r) => r.expect.outcome === 'failed');
    expect(invalid).toHaveLength(1);
    const ids = campaign.requests.map((r) => r.detail.requestId);
    expect(new Set(ids).size).toBeLessThan(ids.length);
    expect(new Set(campaign.requests.map((r) => JSON.stringify(r.detail.renditions ?? null))).size).toBeGreaterThan(3);
  });

  it('every expectation matches what validation says', () => {
    const envelope = loadSample('image-generation-requested', 'minimal');
    for (const r of campaign.requests) {
      const found = issues({ ...envelope, source: campaign.source, detail: r.detail });
      if (r.expect.outcome === 'succeeded') expect(found).toEqual([]);
      else expect(found.join('; ')).toContain(r.expect.message ?? r.expect.code);
    }
  });

  it('renders as PutEvents entries with JSON details', () => {
    const entries = campaignEntries(campaign, 'imagegen');
    expect(entries).toHaveLength(campaign.requests.length);
    expect(entries[0]).toMatchObject({ EventBusName: 'imagegen', Source: 'acme.campaigns', DetailType: 'Image Generation Requested' });
    expect(JSON.parse(entries[0]!.Detail)).toEqual(campaign.requests[0]!.detail);
  });
});
