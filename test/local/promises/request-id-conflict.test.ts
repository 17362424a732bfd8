/**
 * "A requestId reused with different content is a conflict: InvalidRequest, nothing overwritten"
 * (the public contract), through the real workflow and the local cloud's DynamoDB: one request after
 * the other, and two conflicting requests put on the bus in the same PutEvents, racing for the claim.
 */
import { Pipeline, imageReply, type ResultEvent } from './harness';

jest.setTimeout(180_000);

const conflictMessage = (requestId: string) =>
  `detail.requestId "${requestId}" was already used for a request with different content; send a new requestId for a different request`;

describe('a requestId reused with other content', () => {
  let pipeline: Pipeline;

  beforeAll(async () => {
    const image = await imageReply();
    pipeline = await Pipeline.start({ model: () => image });
  });

  afterAll(async () => {
    await pipeline?.close();
  });

  it('is refused with InvalidRequest after the first request finished, leaving its claim and image untouched', async () => {
    const since = pipeline.clock.now();
    const [first = ''] = await pipeline.send([{ requestId: 'order-1', prompt: 'a lighthouse at dusk', metadata: { variant: 'first' } }]);
    const firstRun = (await pipeline.finish([first], since)).get(first);
    expect(firstRun?.status).toBe('SUCCEEDED');
    const cacheKey = (JSON.parse(firstRun?.output ?? '{}') as { cacheKey?: string }).cacheKey;

    const [second = ''] = await pipeline.send([{ requestId: 'order-1', prompt: 'a windmill at noon', metadata: { variant: 'second' } }]);
    const secondRun = (await pipeline.finish([second], since)).get(second);
    expect({ status: secondRun?.status, error: secondRun?.error, cause: secondRun?.cause }).toEqual({ status: 'FAILED', error: 'InvalidRequest', cause: conflictMessage('order-1') });

    const failures = (await pipeline.resultsFor(['order-1'], 2)).filter((e) => e['detail-type'] === 'Image Generation Failed');
    expect(failures.map((e) => e.detail)).toEqual([{ requestId: 'order-1', error: { code: 'InvalidRequest', message: conflictMessage('order-1') }, metadata: { variant: 'second' } }]);

    // Nothing of the second request was written: the claim still holds the first content, and the model saw one prompt.
    const claim = (await pipeline.tableItems()).find((item) => item.pk === 'request#order-1');
    expect(claim?.cacheKey).toBe(cacheKey);
    expect(pipeline.modelCalls.map((c) => c.inputs)).toEqual(['a lighthouse at dusk']);
    expect((await pipeline.objectKeys('images/')).every((key) => key.startsWith(`images/${cacheKey}/`))).toBe(true);

    // The first content under the same requestId is still a duplicate, not a conflict: served from the cache.
    const [again = ''] = await pipeline.send([{ requestId: 'order-1', prompt: 'a lighthouse at dusk', metadata: { variant: 'first' } }]);
    const againRun = (await pipeline.finish([again], since)).get(again);
    expect(againRun?.status).toBe('SUCCEEDED');
    expect(JSON.parse(againRun?.output ?? '{}')).toMatchObject({ requestId: 'order-1', cacheKey, cacheHit: true });
  });

  it('lets exactly one of two conflicting requests sent together win; the other fails with InvalidRequest and writes nothing', async () => {
    const since = pipeline.clock.now();
    const storedBefore = new Set(await pipeline.objectKeys('images/'));
    const callsBefore = pipeline.modelCalls.length;
    const requestIds = Array.from({ length: 8 }, (_, i) => `race-${i + 1}`);
    // Both contents of each requestId in one PutEvents: their executions start together and race for the claim.
    const details = requestIds.flatMap((requestId, i) => [
      { requestId, prompt: `a red kite over hills, take ${i}`, metadata: { variant: 'kite' } },
      { requestId, prompt: `a blue boat on a lake, take ${i}`, metadata: { variant: 'boat' } },
    ]);
    const ids = await pipeline.send(details);
    const runs = await pipeline.finish(ids, since);

    const outcomes = requestIds.map((requestId, i) => {
      const pair = [0, 1].map((j) => ({ detail: details[2 * i + j] as (typeof details)[number], run: runs.get(ids[2 * i + j] ?? '') }));
      expect({ requestId, statuses: pair.map((p) => p.run?.status).sort() }).toEqual({ requestId, statuses: ['FAILED', 'SUCCEEDED'] });
      const winner = pair.find((p) => p.run?.status === 'SUCCEEDED');
      const loser = pair.find((p) => p.run?.status === 'FAILED');
      expect({ error: loser?.run?.error, cause: loser?.run?.cause }).toEqual({ error: 'InvalidRequest', cause: conflictMessage(requestId) });
      const output = JSON.parse(winner?.run?.output ?? '{}') as { cacheKey: string; metadata?: unknown };
      expect(output.metadata).toEqual(winner?.detail.metadata);
      return { requestId, prompt: winner?.detail.prompt ?? '', cacheKey: output.cacheKey, loserMetadata: loser?.detail.metadata };
    });

    // Each producer hears one success (the winner's) and one InvalidRequest carrying the loser's metadata.
    const events = await pipeline.resultsFor(requestIds, 2 * requestIds.length);
    for (const { requestId, cacheKey, loserMetadata } of outcomes) {
      const mine = events.filter((e) => e.detail.requestId === requestId);
      expect(mine.map(summary).sort()).toEqual(['Image Generation Failed InvalidRequest', `Image Generation Succeeded ${cacheKey}`]);
      expect(mine.find((e) => e['detail-type'] === 'Image Generation Failed')?.detail).toEqual({ requestId, error: { code: 'InvalidRequest', message: conflictMessage(requestId) }, metadata: loserMetadata });
    }

    // Nothing half-written: each claim holds its winner's content; only the winners' images were
    // generated and stored; no lease or waiter is left behind.
    const items = await pipeline.tableItems();
    for (const { requestId, cacheKey } of outcomes) expect({ requestId, cacheKey: items.find((item) => item.pk === `request#${requestId}`)?.cacheKey }).toEqual({ requestId, cacheKey });
    expect(items.filter((item) => String(item.pk).startsWith('image#'))).toEqual([]);
    expect(pipeline.modelCalls.slice(callsBefore).map((c) => c.inputs).sort()).toEqual(outcomes.map((o) => o.prompt).sort());
    const added = new Set((await pipeline.objectKeys('images/')).filter((key) => !storedBefore.has(key)).map((key) => key.split('/')[1]));
    expect([...added].sort()).toEqual(outcomes.map((o) => o.cacheKey).sort());
  });
});

function summary(event: ResultEvent): string {
  return event['detail-type'] === 'Image Generation Failed' ? `${event['detail-type']} ${event.detail.error?.code ?? ''}` : `${event['detail-type']} ${event.detail.cacheKey ?? ''}`;
}
