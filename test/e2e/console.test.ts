/**
 * The operator console in a real browser (Debian's Chromium through playwright-core), against
 * `imagegen serve` run as a user runs it: the executions of a small run with their statuses, one
 * execution's graph path, image and renditions, a replay served from the cache, a failure's error
 * code and cause, result events, and the endpoint chart once the first metrics are published.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { chromium, type Browser, type Page } from 'playwright-core';
import { followExecutions } from '../../local/cli/follow';
import { startServe, type ServeProcess } from './serve-process';

jest.setTimeout(240_000);

const ROOT = resolve(__dirname, '../..');
const CHROMIUM = '/usr/bin/chromium';
const STATE_MACHINE = 'arn:aws:states:us-east-1:000000000000:stateMachine:imagegen-request';

const REQUESTS = [
  { requestId: 'console-kite', prompt: 'a red kite over dunes' },
  { requestId: 'console-teapot', prompt: 'a blue teapot', renditions: [{ width: 128, format: 'png' }] },
  { requestId: 'console-kite-again', prompt: 'a red kite over dunes' },
  { requestId: 'console-bad-steps', prompt: 'a paper crane', steps: 250 },
];

describe('operator console', () => {
  let serve: ServeProcess;
  let browser: Browser;
  let page: Page;
  let consoleUrl: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) execFileSync('bash', [join(ROOT, 'scripts/install-test-tools.sh')], { stdio: 'inherit' });
    // No metrics lag: the endpoint chart must have a datapoint within the first minute or two.
    serve = await startServe(['--inference-ms', '100', '--startup-seconds', '0', '--metrics-lag-seconds', '0']);
    consoleUrl = /console (http:\/\/\S+\/_imagegen\/console\/)/.exec(serve.output())?.[1] ?? '';
    const events = new EventBridgeClient(serve.clientConfig);
    const sfn = new SFNClient(serve.clientConfig);
    const since = new Date(Date.now() - 2000);
    const sent = await events.send(
      new PutEventsCommand({ Entries: REQUESTS.map((detail) => ({ EventBusName: 'imagegen', Source: 'e2e.console', DetailType: 'Image Generation Requested', Detail: JSON.stringify(detail) })) }),
    );
    await followExecutions(sfn, STATE_MACHINE, since, (sent.Entries ?? []).map((e) => e.EventId), 120_000);
    events.destroy();
    sfn.destroy();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  });

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
  });

  const row = (requestId: string) => page.locator('table.executions tbody tr', { has: page.locator('td.request-id', { hasText: new RegExp(`^${requestId}$`) }) });

  it('names its URL in the ready line and lists the run with the right statuses', async () => {
    expect(serve.output()).toMatch(/ready on http:\/\/127\.0\.0\.1:\d+ .*console http:\/\/127\.0\.0\.1:\d+\/_imagegen\/console\//);
    await page.goto(consoleUrl);
    await expect(page.locator('table.executions tbody tr').count()).resolves.toBe(4);
    for (const id of ['console-kite', 'console-teapot', 'console-kite-again']) await expect(row(id).getAttribute('data-status')).resolves.toBe('SUCCEEDED');
    await expect(row('console-bad-steps').getAttribute('data-status')).resolves.toBe('FAILED');
    await expect(page.locator('a.count[data-status="SUCCEEDED"] b').textContent()).resolves.toBe('3');
    await expect(page.locator('a.count[data-status="FAILED"] b').textContent()).resolves.toBe('1');
    // Identical content: one of the two kites generated the image, the other joined it or hit the cache.
    const kites = [await row('console-kite').locator('td.cache').textContent(), await row('console-kite-again').locator('td.cache').textContent()].sort();
    expect(kites[1]).toBe('miss');
    expect(['hit', 'joined']).toContain(kites[0]);

    await page.selectOption('select[name="status"]', 'FAILED');
    await page.click('form.filter button');
    await expect(page.locator('table.executions tbody tr').count()).resolves.toBe(1);
    await page.fill('input[name="requestId"]', 'teapot');
    await page.selectOption('select[name="status"]', '');
    await page.click('form.filter button');
    await expect(page.locator('td.request-id').allTextContents()).resolves.toEqual(['console-teapot']);
  });

  it('shows one execution: the graph with the path it took, its image and renditions', async () => {
    await page.goto(consoleUrl);
    await row('console-teapot').locator('a').click();
    await expect(page.locator('h1').textContent()).resolves.toMatch(/console-teapot/);
    const node = (name: string) => page.locator(`svg.graph g.node[data-state="${name}"]`);
    for (const name of ['Resolve', 'Notify', '(end)']) await expect(node(name).getAttribute('class')).resolves.toBe('node taken');
    for (const name of ['ReportFailure', 'Failed']) await expect(node(name).getAttribute('class')).resolves.toBe('node idle');
    await expect(page.locator('svg.graph path.edge.taken').count()).resolves.toBe(3);
    // The original and the one rendition asked for, each decoded by the browser at its own size.
    const images = page.locator('section.images img');
    await expect(images.count()).resolves.toBe(2);
    await page.waitForFunction(() => {
      const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ complete: boolean }> } }).document;
      return Array.from(doc.querySelectorAll('section.images img')).every((img) => img.complete);
    });
    const widths = await images.evaluateAll((imgs) => imgs.map((img) => (img as unknown as { complete: boolean; naturalWidth: number }).naturalWidth));
    expect(widths).toEqual([1024, 128]);
    await expect(page.locator('section.images figcaption a').first().textContent()).resolves.toMatch(/^s3:\/\/imagegen-images\/images\/[0-9a-f]{64}\/original\.png$/);
    await expect(page.locator('table.history tbody tr').count()).resolves.toBeGreaterThan(5);
  });

  it('replays an execution: a new one that succeeds from the cache', async () => {
    const before = page.url();
    await page.click('button[value="replay"]');
    await page.waitForURL((url) => url.toString() !== before && url.pathname.includes('/executions/'));
    await page.waitForFunction(() => /SUCCEEDED/.test((globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }).document.querySelector('h1')?.textContent ?? ''), undefined, { timeout: 30_000 });
    await expect(page.locator('h1').textContent()).resolves.toMatch(/console-teapot/);
    await expect(page.locator('dd.cache').textContent()).resolves.toBe('hit');
    await page.goto(consoleUrl);
    await expect(page.locator('a.count[data-status="SUCCEEDED"] b').textContent()).resolves.toBe('4');
  });

  it('shows a failed execution with its error code and cause', async () => {
    await page.goto(consoleUrl);
    await row('console-bad-steps').locator('a').click();
    await expect(page.locator('.failure .error-code').textContent()).resolves.toBe('InvalidRequest');
    await expect(page.locator('.failure .cause').textContent()).resolves.toBe('detail.steps must be an integer from 1 to 100 (got 250)');
    await expect(page.locator('svg.graph g.node[data-state="Failed"]').getAttribute('class')).resolves.toBe('node failed');
    await expect(page.locator('svg.graph g.node[data-state="ReportFailure"]').getAttribute('class')).resolves.toBe('node taken');
  });

  it('lists the result events newest first, Succeeded and Failed', async () => {
    await page.goto(`${consoleUrl}events`);
    const types = await page.locator('table.events tbody tr td:nth-child(2)').allTextContents();
    expect(types.filter((t) => t === 'Image Generation Succeeded')).toHaveLength(4);
    expect(types.filter((t) => t === 'Image Generation Failed')).toHaveLength(1);
    const times = await page.locator('table.events tbody tr time').evaluateAll((ts) => ts.map((t) => (t as unknown as { dateTime: string }).dateTime));
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('shows the endpoint: instances, fault injection off, and a backlog chart with data points', async () => {
    await page.goto(`${consoleUrl}endpoint`);
    await expect(page.locator('dd.endpoint-status').textContent()).resolves.toBe('InService');
    await expect(page.locator('.faults-state').textContent()).resolves.toBe('fault injection off');
    // The endpoint publishes its metrics once a minute: wait for the first.
    let points = 0;
    for (let i = 0; i < 30 && points === 0; i++) {
      if (i > 0) await page.waitForTimeout(4000);
      await page.goto(`${consoleUrl}endpoint`);
      await page.waitForSelector('#chart-backlog .uplot');
      points = Number(await page.locator('#chart-backlog').getAttribute('data-points'));
    }
    expect(points).toBeGreaterThan(0);
    await expect(page.locator('#chart-backlog canvas').count()).resolves.toBe(1);
    await expect(page.locator('#chart-instances').getAttribute('data-points')).resolves.not.toBe('0');
  });

  it('shows the fault rules put in force at runtime, and "off" again once they are cleared', async () => {
    const faults = `${serve.url}/_imagegen/chaos/faults`;
    const put = (body: unknown) => fetch(faults, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await put({ seed: 3, rules: [{ service: 'sns', topic: 'imagegen-inference-succeeded', action: 'drop', probability: 0.05 }, { service: 's3', operation: 'GetObject', probability: 0.02, error: { statusCode: 500, code: 'InternalError' } }] })).status).toBe(200);
    try {
      await page.goto(`${consoleUrl}faults`);
      await expect(page.locator('.faults-state').textContent()).resolves.toBe('2 active rules, seed 3');
      const rows = await page.locator('section.faults tbody tr').allTextContents();
      // Cells: service, operation, narrowed to, action, probability, error.
      expect(rows).toEqual(['snstopic imagegen-inference-succeededdrop0.05', 's3GetObjecterror0.02500 InternalError']);
    } finally {
      await put({ rules: [] });
    }
    await page.goto(`${consoleUrl}faults`);
    await expect(page.locator('.faults-state').textContent()).resolves.toBe('fault injection off');
  });
});
