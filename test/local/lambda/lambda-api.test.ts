import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetFunctionCommand,
  InvokeCommand,
  LambdaClient,
  ListFunctionsCommand,
  ResourceNotFoundException,
  type InvokeCommandOutput,
} from '@aws-sdk/client-lambda';
import { EdgeServer } from '../../../local/edge/server';
import { LambdaService } from '../../../local/lambda/lambda-service';

const ROOT = join(__dirname, '../../..');
const ENTRY = 'test/local/lambda/fixtures/handlers.ts';

function payloadOf(output: InvokeCommandOutput): unknown {
  return JSON.parse(Buffer.from(output.Payload ?? new Uint8Array()).toString('utf8'));
}

describe('Lambda Invoke API through the edge', () => {
  let scratch: string;
  let lambda: LambdaService;
  let edge: EdgeServer;
  let url: string;
  let client: LambdaClient;
  const file = () => join(scratch, 'events.log');

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'lambda-api-'));
    // The edge listens first so its URL can be handed to the functions; it reaches the service through this indirection.
    edge = new EdgeServer({ services: [{ name: 'lambda', signingNames: ['lambda'], handle: (request) => lambda.handler.handle(request) }], port: 0, region: 'us-east-1' });
    url = await edge.listen();
    lambda = new LambdaService({
      region: 'us-east-1',
      account: '000000000000',
      rootDir: ROOT,
      functions: [
        { name: 'echo-env', entry: ENTRY, handler: 'environment', memoryMb: 256, timeoutSeconds: 5, environment: { GREETING: 'hello' } },
        { name: 'failing', entry: ENTRY, handler: 'fail', memoryMb: 256, timeoutSeconds: 5, environment: {} },
        { name: 'recorder', entry: ENTRY, handler: 'record', memoryMb: 256, timeoutSeconds: 5, environment: { RECORD_FILE: join(scratch, 'events.log') } },
        { name: 'sdk-caller', entry: ENTRY, handler: 'listFunctions', memoryMb: 256, timeoutSeconds: 10, environment: {} },
      ],
      extraEnvironment: { AWS_ENDPOINT_URL: url, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
    });
    client = new LambdaClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  });

  afterAll(async () => {
    client.destroy();
    await edge.close();
    await lambda.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('invokes synchronously (RequestResponse) and returns the payload', async () => {
    const output = await client.send(
      new InvokeCommand({ FunctionName: 'echo-env', Payload: Buffer.from(JSON.stringify({ names: ['GREETING', 'AWS_LAMBDA_FUNCTION_NAME'] })) }),
    );
    expect(output.StatusCode).toBe(200);
    expect(output.FunctionError).toBeUndefined();
    expect(output.ExecutedVersion).toBe('$LATEST');
    expect(payloadOf(output)).toMatchObject({ values: { GREETING: 'hello', AWS_LAMBDA_FUNCTION_NAME: 'echo-env' } });
  });

  it('accepts the function ARN as FunctionName', async () => {
    const output = await client.send(
      new InvokeCommand({ FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:echo-env', Payload: Buffer.from('{"names":[]}') }),
    );
    expect(output.StatusCode).toBe(200);
  });

  it('sets FunctionError Unhandled and returns the error document when the handler throws', async () => {
    const output = await client.send(new InvokeCommand({ FunctionName: 'failing', Payload: Buffer.from('{"kind":"error"}'), LogType: 'Tail' }));
    expect(output.StatusCode).toBe(200);
    expect(output.FunctionError).toBe('Unhandled');
    expect(payloadOf(output)).toMatchObject({ errorType: 'InvalidRequest', errorMessage: 'prompt must be 1-2000 characters', trace: expect.any(Array) });
    const tail = Buffer.from(output.LogResult ?? '', 'base64').toString('utf8');
    expect(tail).toMatch(/^START RequestId: \S+ Version: \$LATEST\nabout to fail\nERROR\tInvoke Error \t\{"errorType":"InvalidRequest",.*\nEND RequestId: \S+\nREPORT RequestId: /);
  });

  it('queues an Event invocation, answers 202 at once, and runs it', async () => {
    const output = await client.send(
      new InvokeCommand({ FunctionName: 'recorder', InvocationType: 'Event', Payload: Buffer.from('{"source":"event-invoke"}') }),
    );
    expect(output.StatusCode).toBe(202);
    expect(output.Payload?.length ?? 0).toBe(0);
    await lambda.idle();
    expect(readFileSync(file(), 'utf8')).toBe('{"source":"event-invoke"}\n');
  });

  it('answers a DryRun with 204 without running the function', async () => {
    const output = await client.send(new InvokeCommand({ FunctionName: 'failing', InvocationType: 'DryRun' }));
    expect(output.StatusCode).toBe(204);
  });

  it('raises ResourceNotFoundException for an unknown function', async () => {
    const error: unknown = await client.send(new InvokeCommand({ FunctionName: 'nope' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect((error as Error).message).toBe('Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope');
    expect((error as ResourceNotFoundException).$metadata.httpStatusCode).toBe(404);
  });

  it('raises InvalidRequestContentException for a payload that is not JSON', async () => {
    const error: unknown = await client.send(new InvokeCommand({ FunctionName: 'echo-env', Payload: Buffer.from('{not json') })).catch((e: unknown) => e);
    expect((error as Error).name).toBe('InvalidRequestContentException');
    expect((error as Error).message).toMatch(/^Could not parse request body into json/);
  });

  it('describes functions with GetFunction and ListFunctions', async () => {
    const got = await client.send(new GetFunctionCommand({ FunctionName: 'echo-env' }));
    expect(got.Configuration).toMatchObject({
      FunctionName: 'echo-env',
      FunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:echo-env',
      Runtime: 'nodejs22.x',
      Handler: 'test/local/lambda/fixtures/handlers.environment',
      MemorySize: 256,
      Timeout: 5,
      Environment: { Variables: { GREETING: 'hello' } },
      State: 'Active',
    });
    const listed = await client.send(new ListFunctionsCommand({ MaxItems: 2 }));
    expect(listed.Functions?.map((f) => f.FunctionName)).toEqual(['echo-env', 'failing']);
    const rest = await client.send(new ListFunctionsCommand({ Marker: listed.NextMarker }));
    expect(rest.Functions?.map((f) => f.FunctionName)).toEqual(['recorder', 'sdk-caller']);
    expect(rest.NextMarker).toBeUndefined();
  });

  it('lets handler code reach the local cloud with a default SDK client (AWS_ENDPOINT_URL, credentials, region)', async () => {
    const output = await client.send(new InvokeCommand({ FunctionName: 'sdk-caller' }));
    expect(output.FunctionError).toBeUndefined();
    expect(payloadOf(output)).toEqual({ names: ['echo-env', 'failing', 'recorder', 'sdk-caller'], region: 'us-east-1' });
  });
});
