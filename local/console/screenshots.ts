/**
 * Refreshes the README's console screenshots (`npm run screenshots` → docs/console/*.png): boots
 * the local cloud, runs the sample campaign, waits for the endpoint's first published metrics, puts
 * example fault rules in force, and has Chromium capture each console page.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { chromium, type Page } from 'playwright-core';
import { loadCampaign } from '../cli/campaign';
import { followExecutions } from '../cli/follow';
import { LocalCloud } from '../cloud';

const ROOT = resolve(__dirname, '../..');
const OUT = join(ROOT, 'docs/console');

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'imagegen-screenshots-'));
  const cloud = await LocalCloud.start({ port: 0, dataDir, standIn: { inferenceMs: 300 }, instanceStartupSeconds: 0 });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  try {
    const config = { endpoint: cloud.url, region: cloud.partition.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
    const events = new EventBridgeClient(config);
    const sfn = new SFNClient(config);
    const campaign = await loadCampaign(join(ROOT, 'events/samples/campaign.json'));
    const since = new Date(Date.now() - 2000);
    const ids: (string | undefined)[] = [];
    for (let i = 0; i < campaign.requests.length; i += 10) {
      const entries = campaign.requests.slice(i, i + 10).map((r) => ({ EventBusName: 'imagegen', Source: campaign.source, DetailType: 'Image Generation Requested', Detail: JSON.stringify(r.detail) }));
      ids.push(...((await events.send(new PutEventsCommand({ Entries: entries }))).Entries ?? []).map((e) => e.EventId));
    }
    await followExecutions(sfn, `arn:aws:states:${cloud.partition.region}:${cloud.partition.account}:stateMachine:imagegen-request`, since, ids, 300_000);
    // SageMaker's minutes land two minutes late and the publisher describes the latest landed one.
    process.stdout.write(`campaign done; waiting for the endpoint's first published minutes (≈ 3 min)…\n`);
    await new Promise((r) => setTimeout(r, 190_000));

    await mkdir(OUT, { recursive: true });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const shot = async (name: string, p: Page) => {
      await p.waitForLoadState('load');
      await p.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
      process.stdout.write(`wrote docs/console/${name}.png\n`);
    };
    await page.goto(cloud.consoleUrl);
    await shot('executions', page);
    await page.locator('tr[data-status="SUCCEEDED"]', { has: page.locator('td.cache', { hasText: 'miss' }) }).last().locator('a').click();
    await shot('execution', page);
    await page.goto(`${cloud.consoleUrl}?status=FAILED`);
    await page.locator('tr[data-status="FAILED"] a').first().click();
    await shot('execution-failed', page);
    await page.goto(`${cloud.consoleUrl}endpoint`);
    await page.waitForSelector('#chart-backlog .uplot');
    await shot('endpoint', page);
    await page.goto(`${cloud.consoleUrl}events`);
    await shot('events', page);
    // The issue's example rules, put in force at runtime as an operator would.
    cloud.faults.replace({
      seed: 7,
      rules: [
        { service: 'sns', action: 'drop', probability: 0.05 },
        { service: 'lambda', function: 'imagegen-complete', action: 'crash', probability: 0.05 },
        { service: 'sagemaker', action: 'model-error', probability: 0.1 },
        { service: 's3', operation: 'GetObject', probability: 0.02, error: { statusCode: 500, code: 'InternalError' } },
      ],
    });
    await page.goto(`${cloud.consoleUrl}faults`);
    await shot('faults', page);
    events.destroy();
    sfn.destroy();
  } finally {
    await browser.close();
    await cloud.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
