/**
 * Complete reads an image's waiters with DynamoDB Query, which returns at most 1 MB per page. A
 * crowd of requests for one image, each carrying close to the 4 KB of metadata the contract allows,
 * does not fit one page: every one of them must still get its own result, from one inference.
 * Through the real workflow, the real Complete and the local cloud's DynamoDB (which pages at 1 MB).
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { METADATA_MAX_BYTES } from '../../../events/image-generation-requested/schema';
import { Pipeline, TABLE, imageReply, until } from './harness';

jest.setTimeout(300_000);

const CROWD = 300;
const PROMPT = 'the whole crowd at the finish line';

describe("Complete's waiters beyond one Query page", () => {
  let pipeline: Pipeline;
  let release: () => void = () => undefined;

  beforeAll(async () => {
    const image = await imageReply();
    // The model answers only when released, so every request has registered as a waiter first.
    const released = new Promise<void>((resolve) => (release = resolve));
    pipeline = await Pipeline.start({ model: () => released.then(() => image) });
  });

  afterAll(async () => {
    release();
    await pipeline?.close();
  });

  it('completes every waiting execution with its own result event when the waiters span several pages', async () => {
    const since = pipeline.clock.now();
    const note = 'n'.repeat(METADATA_MAX_BYTES - 100);
    const requestIds = Array.from({ length: CROWD }, (_, i) => `crowd-${i}`);
    const ids = await pipeline.send(requestIds.map((requestId, i) => ({ requestId, prompt: PROMPT, metadata: { seat: i, note } })));

    const waiters = async () => (await pipeline.tableItems()).filter((item) => String(item.sk).startsWith('waiter#'));
    await until(async () => (await waiters()).length === CROWD, `${CROWD} waiters in the table`, 120_000);
    expect(pipeline.modelCalls).toHaveLength(1);

    // The precondition that makes this test mean something: Complete's own query does not get them in one page.
    const [first] = await waiters();
    const page = await pipeline.ddb.send(
      new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :w)', ExpressionAttributeValues: { ':pk': first?.pk, ':w': 'waiter#' }, ConsistentRead: true }),
    );
    expect(page.LastEvaluatedKey).toBeDefined();
    expect(page.Count).toBeLessThan(CROWD);

    release();
    const runs = await pipeline.finish(ids, since, 60_000);
    const statuses = new Map<string, number>();
    for (const run of runs.values()) statuses.set(run.status, (statuses.get(run.status) ?? 0) + 1);
    expect(Object.fromEntries(statuses)).toEqual({ SUCCEEDED: CROWD });

    // Each execution's output is its own request's result, from the one image.
    const outputs = ids.map((id) => JSON.parse(runs.get(id)?.output ?? '{}') as { requestId: string; cacheKey: string; cacheHit: boolean; metadata: { seat: number } });
    expect(outputs.map((o) => [o.requestId, o.metadata.seat, o.cacheHit])).toEqual(requestIds.map((requestId, i) => [requestId, i, false]));
    expect(new Set(outputs.map((o) => o.cacheKey)).size).toBe(1);

    // One result event per request on the bus, each with its own metadata; no waiter left behind.
    const events = await pipeline.resultsFor(requestIds, CROWD, 120_000);
    expect(events.map((e) => `${e['detail-type']} ${e.detail.requestId ?? ''} ${String(e.detail.metadata?.seat)}`).sort()).toEqual(
      requestIds.map((requestId, i) => `Image Generation Succeeded ${requestId} ${i}`).sort(),
    );
    expect(await waiters()).toEqual([]);
    expect(pipeline.modelCalls).toHaveLength(1);
  });
});
