/**
 * The console's actions on executions, as the console's own form sends them (its CSRF cookie and
 * field): Redrive a failed execution and Stop a running one, each through the Step Functions API,
 * checked by what DescribeExecution then reports.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand, type DescribeExecutionCommandOutput } from '@aws-sdk/client-sfn';
import { REQUEST_DETAIL_TYPE } from '../../../events/contract';
import { LocalCloud } from '../../../local/cloud';
import { send, type Reply } from './raw-http';

jest.setTimeout(120_000);

describe('console actions', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'imagegen-console-actions-'));
  let cloud: LocalCloud;
  let sfn: SFNClient;
  let host: string;
  let stateMachineArn: string;

  beforeAll(async () => {
    // A model slow enough that a valid request is still waiting on its inference when it is stopped.
    cloud = await LocalCloud.start({ port: 0, dataDir, standIn: { inferenceMs: 60_000 }, instanceStartupSeconds: 0 });
    sfn = new SFNClient({ endpoint: cloud.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    host = new URL(cloud.url).host;
    stateMachineArn = `arn:aws:states:us-east-1:000000000000:stateMachine:${cloud.topology.stateMachines[0]?.name}`;
  });
  afterAll(async () => {
    sfn?.destroy();
    await cloud?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function describeWhen(executionArn: string, done: (d: DescribeExecutionCommandOutput) => boolean): Promise<DescribeExecutionCommandOutput> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (done(described) || Date.now() > deadline) return described;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Opens the execution's page and submits one of its action forms, as the browser would. */
  async function act(executionArn: string, action: 'redrive' | 'stop'): Promise<Reply> {
    const pagePath = `/_imagegen/console/executions/${encodeURIComponent(executionArn)}`;
    const page = await send(cloud.url, 'GET', pagePath, { host });
    expect(page.status).toBe(200);
    expect(page.body).toContain(`${pagePath}/${action}`);
    const cookie = String(page.headers['set-cookie']).split(';')[0] ?? '';
    const token = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    return send(cloud.url, 'POST', `${pagePath}/${action}`, { host, origin: `http://${host}`, cookie, 'content-type': 'application/x-www-form-urlencoded' }, `action=${action}&csrf=${token}`);
  }

  it('redrives a failed execution: Step Functions counts the redrive and runs it again', async () => {
    const { executionArn = '' } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify({ detail: { requestId: 'actions-redrive', prompt: '' } }) }));
    const failed = await describeWhen(executionArn, (d) => d.status !== 'RUNNING');
    expect({ status: failed.status, error: failed.error, redriveCount: failed.redriveCount ?? 0 }).toEqual({ status: 'FAILED', error: 'InvalidRequest', redriveCount: 0 });

    const reply = await act(executionArn, 'redrive');
    expect(reply.status).toBe(303);
    expect(reply.headers.location).toBe(`/_imagegen/console/executions/${encodeURIComponent(executionArn)}`);
    const redriven = await describeWhen(executionArn, (d) => (d.redriveCount ?? 0) === 1 && d.status !== 'RUNNING');
    // The input is still invalid, so the redriven run fails the same way; what changed is that it ran.
    expect({ status: redriven.status, error: redriven.error, redriveCount: redriven.redriveCount }).toEqual({ status: 'FAILED', error: 'InvalidRequest', redriveCount: 1 });
  });

  it('stops a running execution: it ends ABORTED with the console named as the cause', async () => {
    // The execution's input as the rule delivers it: the whole event.
    const event = {
      version: '0',
      id: 'b7c1e0c2-5f7a-4d57-9d3e-0a6f4f1c2d3e',
      'detail-type': REQUEST_DETAIL_TYPE,
      source: 'campaigns.test',
      account: '000000000000',
      time: new Date().toISOString(),
      region: 'us-east-1',
      resources: [],
      detail: { requestId: 'actions-stop', prompt: 'a lighthouse at dusk, oil painting' },
    };
    const { executionArn = '' } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(event) }));
    const waiting = await describeWhen(executionArn, () => true);
    expect(waiting.status).toBe('RUNNING');

    const reply = await act(executionArn, 'stop');
    expect(reply.status).toBe(303);
    const stopped = await describeWhen(executionArn, (d) => d.status !== 'RUNNING');
    expect({ status: stopped.status, error: stopped.error, cause: stopped.cause }).toEqual({ status: 'ABORTED', error: 'Console.Stopped', cause: 'stopped from the imagegen operator console' });
  });
});
