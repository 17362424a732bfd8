/**
 * The front door: `imagegen start` (what `npm start` runs) on the sample campaign, then its gallery
 * in a real browser (Debian's Chromium through playwright-core), then a second run on the same data
 * directory, which must be served entirely from the cache that survived the restart.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

jest.setTimeout(240_000);

const ROOT = resolve(__dirname, '../..');
const CHROMIUM = '/usr/bin/chromium';
const run = promisify(execFile);

interface Summary {
  outcomes: { requestId: string; status: string; asExpected: boolean; cacheHit?: boolean; errorCode?: string; files: string[] }[];
}

async function start(dataDir: string, outDir: string): Promise<{ stdout: string; stderr: string; summary: Summary }> {
  const { stdout, stderr } = await run(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'local/cli/main.ts'), 'start', '--data-dir', dataDir, '--out', outDir, '--inference-ms', '100', '--startup-seconds', '0'],
    { cwd: ROOT, maxBuffer: 8 * 1024 * 1024 },
  );
  return { stdout, stderr, summary: JSON.parse(readFileSync(join(outDir, 'summary.json'), 'utf8')) as Summary };
}

describe('imagegen start', () => {
  const work = mkdtempSync(join(tmpdir(), 'imagegen-start-'));
  const dataDir = join(work, 'data');

  beforeAll(() => {
    if (!existsSync(CHROMIUM)) execFileSync('bash', [join(ROOT, 'scripts/install-test-tools.sh')], { stdio: 'inherit' });
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('runs the sample campaign offline, every request ending as the batch expects, and writes a gallery that renders', async () => {
    const outDir = join(work, 'out-1');
    const { stdout, summary } = await start(dataDir, outDir);

    expect(summary.outcomes).toHaveLength(21);
    expect(summary.outcomes.every((o) => o.asExpected)).toBe(true);
    expect(summary.outcomes.filter((o) => o.status === 'FAILED').map((o) => o.errorCode)).toEqual(['InvalidRequest']);
    expect(stdout).toMatch(/request\s+status\s+cache\s+latency/);
    expect(stdout).toMatch(/21 requests: 20 succeeded .* 1 failed; 0 not as expected/);
    // The original plus each requested rendition (two by default) is on disk for every success.
    const campaign = JSON.parse(readFileSync(join(ROOT, 'events/samples/campaign.json'), 'utf8')) as { requests: { detail: { prompt: string; renditions?: unknown[] } }[] };
    for (const [index, outcome] of summary.outcomes.entries()) {
      if (outcome.status !== 'SUCCEEDED') continue;
      expect(outcome.files).toHaveLength(1 + (campaign.requests[index]?.detail.renditions ?? [0, 0]).length);
      for (const file of outcome.files) expect(existsSync(join(outDir, file))).toBe(true);
    }

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await page.goto(`file://${join(outDir, 'index.html')}`);
      await page.waitForLoadState('load');
      expect(await page.locator('section.card').count()).toBe(21);
      expect(await page.locator('section.card.failed').count()).toBe(1);
      // Each card says what was asked for: the (trimmed) prompt, as text, not markup.
      const prompts = await page.locator('section.card .prompt').allTextContents();
      expect(prompts).toEqual(campaign.requests.map((r) => r.detail.prompt.trim()));
      await expect(page.locator('section.card.failed').textContent()).resolves.toMatch(/InvalidRequest/);
      // Images load lazily: bring each into view, as a reader scrolling the page would, and wait for it to decode.
      const images = page.locator('img');
      expect(await images.count()).toBeGreaterThanOrEqual(40);
      for (const image of await images.all()) {
        await image.scrollIntoViewIfNeeded();
        await page.waitForFunction((img) => (img as unknown as { complete: boolean }).complete, await image.elementHandle());
        expect(await image.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
      }
      await page.screenshot({ path: join(work, 'gallery.png') });
    } finally {
      await browser.close();
    }
  });

  it('serves a second run on the same data directory entirely from the cache, printing no warning banner', async () => {
    const { stdout, stderr, summary } = await start(dataDir, join(work, 'out-2'));
    // node:sqlite announces itself as experimental on Node 22; the local cloud silences exactly that.
    expect(`${stdout}${stderr}`).not.toMatch(/Warning/);
    const succeeded = summary.outcomes.filter((o) => o.status === 'SUCCEEDED');
    expect(succeeded).toHaveLength(20);
    expect(succeeded.every((o) => o.cacheHit === true)).toBe(true);
  });
});
