/**
 * The largest request the contract accepts, through Resolve and Complete: its model input must fit
 * InvokeEndpointAsync's inline Body (128,000 bytes), and its result must fit what Step Functions and
 * EventBridge carry (256 KiB for SendTaskSuccess output and state data, 256 KB for a PutEvents entry).
 */
import { complete } from '../../tasks/complete/complete';
import { resolve } from '../../tasks/resolve/resolve';
import { loadSample } from '../../events/samples';
import { METADATA_MAX_BYTES, PROMPT_MAX } from '../../events/image-generation-requested/schema';
import { ASYNC_LIMITS } from '../../local/sagemaker/invoke-request';
import { TestCloud } from './test-cloud';
import { TestClock, completeDeps, finishLastInference, resolveDeps, snsEvent, successNotification } from './harness';

const STEP_FUNCTIONS_PAYLOAD_BYTES = 262_144;
const PUT_EVENTS_ENTRY_BYTES = 256 * 1024;

/** Every field at its bound, in the characters that take the most UTF-8 bytes per character counted. */
function largestRequest(): object {
  const metadataNote = 'x'.repeat(METADATA_MAX_BYTES - '{"note":""}'.length);
  return {
    requestId: 'r'.repeat(64),
    prompt: '€'.repeat(PROMPT_MAX),
    negativePrompt: '€'.repeat(PROMPT_MAX),
    width: 1024,
    height: 1024,
    steps: 100,
    guidanceScale: 30,
    seed: 4294967295,
    // jpeg names as long as avif's, and renders faster.
    renditions: Array.from({ length: 8 }, (_, i) => ({ width: 2048 - i, format: 'jpeg', quality: 100 })),
    metadata: { note: metadataNote },
  };
}

describe('payload limits', () => {
  let cloud: TestCloud;
  beforeAll(async () => {
    cloud = await TestCloud.start();
  });
  afterAll(() => cloud.close());

  it('keeps the largest valid request inside the inline Body and its result inside Step Functions and EventBridge limits', async () => {
    const clock = new TestClock();
    const detail = largestRequest();
    const event = { ...loadSample('image-generation-requested', 'minimal'), detail };
    expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThan(STEP_FUNCTIONS_PAYLOAD_BYTES);
    const result = cloud.openToken('t1');
    await resolve({ event, taskToken: 't1', executionArn: 'arn:exec:largest' }, resolveDeps(cloud, clock));

    const body = cloud.invocations[0]!.Body as Uint8Array;
    expect(body.byteLength).toBeGreaterThan(12_000);
    expect(body.byteLength).toBeLessThanOrEqual(ASYNC_LIMITS.inlineBodyBytes);

    const { inferenceId, outputLocation } = await finishLastInference(cloud);
    await complete(snsEvent(successNotification(inferenceId, outputLocation)), completeDeps(cloud, clock));
    const output = JSON.stringify(await result);
    expect(Buffer.byteLength(output)).toBeLessThanOrEqual(STEP_FUNCTIONS_PAYLOAD_BYTES);
    // Notify sends the same document as the Detail of one entry (with Source and DetailType).
    expect(Buffer.byteLength(output) + 100).toBeLessThanOrEqual(PUT_EVENTS_ENTRY_BYTES);
  });
});
