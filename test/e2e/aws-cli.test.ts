/**
 * The AWS CLI v2 (Debian's awscli 2.9, an independent client with its own serializers) against
 * `imagegen serve`. `scripts/install-test-tools.sh` installs it when missing.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startServe, type ServeProcess } from './serve-process';

jest.setTimeout(180_000);

const AWS = '/usr/bin/aws';
const STATE_MACHINE = 'arn:aws:states:us-east-1:000000000000:stateMachine:imagegen-request';
const run = promisify(execFile);

function ensureAwsCli(): void {
  try {
    execFileSync(AWS, ['--version'], { stdio: 'ignore' });
  } catch {
    execFileSync('bash', [join(__dirname, '../../scripts/install-test-tools.sh')], { stdio: 'inherit' });
  }
}

describe('AWS CLI v2 against the local cloud', () => {
  let serve: ServeProcess;
  let work: string;

  beforeAll(async () => {
    ensureAwsCli();
    // A slow stand-in model keeps a task token open long enough to complete it from the CLI.
    serve = await startServe(['--inference-ms', '8000', '--startup-seconds', '0']);
    work = mkdtempSync(join(tmpdir(), 'imagegen-cli-'));
  });

  afterAll(async () => serve?.stop());

  async function aws(...args: string[]): Promise<string> {
    const { stdout } = await run(AWS, ['--endpoint-url', serve.url, '--region', 'us-east-1', '--output', 'json', ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: work, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_PAGER: '' },
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  }
  const json = async <T>(...args: string[]): Promise<T> => JSON.parse(await aws(...args)) as T;

  it('reports version 2', async () => {
    const { stdout } = await run(AWS, ['--version']);
    expect(stdout).toMatch(/^aws-cli\/2\./);
  });

  it('s3 cp up and down, and ls', async () => {
    const file = join(work, 'hello.txt');
    writeFileSync(file, 'hello from the aws cli\n'.repeat(1000));
    await aws('s3', 'cp', file, 's3://imagegen-images/cli/hello.txt');
    expect(await aws('s3', 'ls', 's3://imagegen-images/cli/')).toMatch(/\s23000 hello\.txt/);
    const back = join(work, 'back.txt');
    await aws('s3', 'cp', 's3://imagegen-images/cli/hello.txt', back);
    expect(readFileSync(back, 'utf8')).toBe(readFileSync(file, 'utf8'));
  });

  it('cloudwatch put-metric-data then get-metric-data', async () => {
    const now = Math.floor(Date.now() / 60_000) * 60;
    await aws('cloudwatch', 'put-metric-data', '--namespace', 'CliTest', '--metric-name', 'Widgets', '--value', '3', '--dimensions', 'Shop=north', '--timestamp', String(now));
    await aws('cloudwatch', 'put-metric-data', '--namespace', 'CliTest', '--metric-name', 'Widgets', '--value', '5', '--dimensions', 'Shop=north', '--timestamp', String(now));
    const result = await json<{ MetricDataResults: { Id: string; Values: number[] }[] }>(
      'cloudwatch', 'get-metric-data',
      '--start-time', String(now - 60), '--end-time', String(now + 60),
      '--metric-data-queries', JSON.stringify([
        { Id: 'sum', MetricStat: { Metric: { Namespace: 'CliTest', MetricName: 'Widgets', Dimensions: [{ Name: 'Shop', Value: 'north' }] }, Period: 60, Stat: 'Sum' } },
        { Id: 'double', Expression: 'sum * 2' },
      ]),
    );
    expect(result.MetricDataResults.find((r) => r.Id === 'sum')?.Values).toEqual([8]);
    expect(result.MetricDataResults.find((r) => r.Id === 'double')?.Values).toEqual([16]);
  });

  it('sagemaker-runtime invoke-endpoint-async answers with output and failure locations', async () => {
    const input = join(work, 'input.json');
    writeFileSync(input, JSON.stringify({ inputs: 'a vintage camera', parameters: { width: 1024, height: 1024, seed: 3 } }));
    await aws('s3', 'cp', input, 's3://imagegen-images/cli/input.json');
    // CLI 2.9's model predates FailureLocation; the SDK conformance tests cover that header.
    const result = await json<{ InferenceId: string; OutputLocation: string }>(
      'sagemaker-runtime', 'invoke-endpoint-async', '--endpoint-name', 'imagegen-sdxl',
      '--input-location', 's3://imagegen-images/cli/input.json', '--content-type', 'application/json', '--inference-id', 'cli-inference-1',
    );
    expect(result.InferenceId).toBe('cli-inference-1');
    expect(result.OutputLocation).toMatch(/^s3:\/\/imagegen-images\/async-output\/[0-9a-f-]{36}\.out$/);
    // The model's answer lands at that location once the (8 s) stand-in inference is done.
    const key = result.OutputLocation.replace('s3://imagegen-images/', '');
    const head = await eventually(async () => {
      try {
        return await json<{ ContentLength: number }>('s3api', 'head-object', '--bucket', 'imagegen-images', '--key', key);
      } catch {
        return undefined;
      }
    });
    expect(head.ContentLength).toBeGreaterThan(1000);
  });

  it('events put-events starts the workflow; stepfunctions list, describe, history and send-task-success', async () => {
    const put = await json<{ FailedEntryCount: number; Entries: { EventId: string }[] }>(
      'events', 'put-events', '--entries', JSON.stringify([
        { EventBusName: 'imagegen', Source: 'cli.producer', DetailType: 'Image Generation Requested', Detail: JSON.stringify({ requestId: 'cli-1', prompt: 'a field of sunflowers', seed: 99 }) },
      ]),
    );
    expect(put.FailedEntryCount).toBe(0);

    // The request waits on its inference (8 s model): its task token is in the coordination table.
    const executionArn = await eventually(async () => {
      const list = await json<{ executions: { executionArn: string; status: string }[] }>('stepfunctions', 'list-executions', '--state-machine-arn', STATE_MACHINE);
      for (const e of list.executions) {
        const described = await json<{ input: string }>('stepfunctions', 'describe-execution', '--execution-arn', e.executionArn);
        if ((JSON.parse(described.input) as { id: string }).id === put.Entries[0]?.EventId) return e.executionArn;
      }
      return undefined;
    });
    const token = await eventually(async () => {
      const scan = await json<{ Items: { sk: { S: string }; taskToken?: { S: string }; requestId?: { S: string } }[] }>('dynamodb', 'scan', '--table-name', 'imagegen-coordination');
      return scan.Items.find((i) => i.sk.S.startsWith('waiter#') && i.requestId?.S === 'cli-1')?.taskToken?.S;
    });

    const output = { requestId: 'cli-1', completedBy: 'aws-cli' };
    await aws('stepfunctions', 'send-task-success', '--task-token', token, '--task-output', JSON.stringify(output));

    const described = await eventually(async () => {
      const d = await json<{ status: string; output?: string }>('stepfunctions', 'describe-execution', '--execution-arn', executionArn);
      return d.status === 'RUNNING' ? undefined : d;
    });
    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output ?? '{}')).toEqual(output);

    const history = await json<{ events: { type: string }[] }>('stepfunctions', 'get-execution-history', '--execution-arn', executionArn);
    const types = history.events.map((e) => e.type);
    expect(types[0]).toBe('ExecutionStarted');
    expect(types).toContain('TaskSubmitted');
    expect(types).toContain('TaskSucceeded');
    expect(types.at(-1)).toBe('ExecutionSucceeded');

    // A second completion of the same token is refused as AWS does.
    await expect(aws('stepfunctions', 'send-task-success', '--task-token', token, '--task-output', '{}')).rejects.toThrow(/TaskTimedOut/);
  });

  it('stepfunctions start-execution with a name, and the same name with other input is refused', async () => {
    const event = { version: '0', id: 'cli-direct-1', 'detail-type': 'Image Generation Requested', source: 'cli.producer', account: '000000000000', time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), region: 'us-east-1', resources: [], detail: { requestId: 'cli-direct', prompt: '' } };
    const started = await json<{ executionArn: string }>('stepfunctions', 'start-execution', '--state-machine-arn', STATE_MACHINE, '--name', 'cli-direct-1', '--input', JSON.stringify(event));
    expect(started.executionArn).toBe('arn:aws:states:us-east-1:000000000000:execution:imagegen-request:cli-direct-1');
    const described = await eventually(async () => {
      const d = await json<{ status: string; error?: string; cause?: string }>('stepfunctions', 'describe-execution', '--execution-arn', started.executionArn);
      return d.status === 'RUNNING' ? undefined : d;
    });
    expect(described).toMatchObject({ status: 'FAILED', error: 'InvalidRequest' });
    expect(described.cause).toMatch(/prompt/);
    await expect(
      aws('stepfunctions', 'start-execution', '--state-machine-arn', STATE_MACHINE, '--name', 'cli-direct-1', '--input', '{"other":true}'),
    ).rejects.toThrow(/ExecutionAlreadyExists/);
  });
});

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 300));
  }
}
