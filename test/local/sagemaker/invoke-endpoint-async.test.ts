import { InvokeEndpointAsyncCommand, InvokeEndpointCommand, ValidationError } from '@aws-sdk/client-sagemaker-runtime';
import { renderStandInImage, startStandInModel, type StandInModel } from '../../../local/model/stand-in-server';
import { ACCOUNT, ENDPOINT, ERROR_TOPIC, fakeContainer, startHarness, SUCCESS_TOPIC, waitFor, type FakeContainer, type Harness } from './harness';

const modelInput = { inputs: 'a lighthouse at dusk', parameters: { width: 128, height: 64, num_inference_steps: 10, guidance_scale: 7, seed: 3 } };
const inputKey = 'inputs/abc.json';
const inputLocation = `s3://imagegen-images/${inputKey}`;

async function putInput(h: Harness, body: unknown = modelInput): Promise<void> {
  await h.objects.putObject('imagegen-images', inputKey, Buffer.from(JSON.stringify(body)), 'application/json');
}

async function rejection(promise: Promise<unknown>): Promise<{ name: string; message: string; status: number | undefined }> {
  try {
    await promise;
  } catch (error) {
    const e = error as ValidationError;
    return { name: e.name, message: e.message, status: e.$metadata.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}

describe('InvokeEndpointAsync with the stand-in model', () => {
  let model: StandInModel;
  let h: Harness;

  beforeEach(async () => {
    model = await startStandInModel({ inferenceMs: 5 });
    h = await startHarness(model.url);
  });
  afterEach(async () => {
    await h.close();
    await model.close();
  });

  it('answers 202 with the output and failure locations that the SDK parses', async () => {
    await putInput(h);
    const result = await h.client.send(
      new InvokeEndpointAsyncCommand({ EndpointName: ENDPOINT, InputLocation: inputLocation, InferenceId: 'inf-1', ContentType: 'application/json' }),
    );
    expect(result.$metadata.httpStatusCode).toBe(202);
    expect(result.InferenceId).toBe('inf-1');
    const uuid = /^s3:\/\/imagegen-images\/async-output\/([0-9a-f-]{36})\.out$/.exec(result.OutputLocation ?? '')?.[1];
    expect(uuid).toBeDefined();
    expect(uuid).not.toBe('inf-1');
    expect(result.FailureLocation).toBe(`s3://imagegen-images/async-failures/${uuid}-error.out`);
  });

  it('generates an InferenceId when none is given', async () => {
    await putInput(h);
    const result = await h.client.send(new InvokeEndpointAsyncCommand({ EndpointName: ENDPOINT, InputLocation: inputLocation }));
    expect(result.InferenceId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('writes the model response to the output location and publishes the exact success notification', async () => {
    await putInput(h);
    const result = await h.client.send(
      new InvokeEndpointAsyncCommand({
        EndpointName: ENDPOINT,
        InputLocation: inputLocation,
        InferenceId: 'inf-ok',
        ContentType: 'application/json',
        Accept: 'application/json',
      }),
    );
    await waitFor(() => h.topics.messages.length === 1, 'the success notification');

    const output = h.objects.at(result.OutputLocation ?? '');
    expect(output?.contentType).toBe('application/json');
    const images = (JSON.parse(output?.body.toString('utf8') ?? '{}') as { generated_images: string[] }).generated_images;
    const expected = await renderStandInImage({ prompt: 'a lighthouse at dusk', width: 128, height: 64, steps: 10, guidanceScale: 7, seed: 3 });
    expect(Buffer.from(images[0] ?? '', 'base64').equals(expected)).toBe(true);

    const time = new Date(h.clock.now()).toISOString();
    const [published] = h.topics.messages;
    expect(published?.topicArn).toBe(SUCCESS_TOPIC);
    // Exact text, key order included, as AWS's documented example.
    expect(published?.message).toBe(
      JSON.stringify({
        awsRegion: 'us-east-1',
        eventTime: time,
        receivedTime: time,
        invocationStatus: 'Completed',
        requestParameters: { contentType: 'application/json', accept: 'application/json', endpointName: ENDPOINT, inputLocation },
        responseParameters: { contentType: 'application/json', outputLocation: result.OutputLocation },
        inferenceId: 'inf-ok',
        eventVersion: '1.0',
        eventSource: 'aws:sagemaker',
        eventName: 'InferenceResult',
      }),
    );
    expect(h.service.stats(ENDPOINT)).toMatchObject({ queued: 0, inFlight: 0, processed: 1, failed: 0 });
  });

  it('accepts an inline Body and leaves inputLocation out of the notification', async () => {
    const result = await h.client.send(
      new InvokeEndpointAsyncCommand({ EndpointName: ENDPOINT, Body: Buffer.from(JSON.stringify(modelInput)), ContentType: 'application/json' }),
    );
    await waitFor(() => h.topics.messages.length === 1, 'the success notification');
    const message = JSON.parse(h.topics.messages[0]?.message ?? '{}') as Record<string, unknown>;
    expect(message.requestParameters).toEqual({ contentType: 'application/json', endpointName: ENDPOINT });
    expect(h.objects.at(result.OutputLocation ?? '')).toBeDefined();
  });

  it('fails the inference when the input object does not exist', async () => {
    const result = await h.client.send(new InvokeEndpointAsyncCommand({ EndpointName: ENDPOINT, InputLocation: 's3://imagegen-images/inputs/missing.json' }));
    await waitFor(() => h.topics.messages.length === 1, 'the error notification');
    expect(h.topics.messages[0]?.topicArn).toBe(ERROR_TOPIC);
    const message = JSON.parse(h.topics.messages[0]?.message ?? '{}') as Record<string, unknown>;
    expect(message.invocationStatus).toBe('Failed');
    expect(message.failureReason).toMatch(/^ClientError: Failed to download the input from s3:\/\/imagegen-images\/inputs\/missing\.json/);
    expect(h.objects.at(result.FailureLocation ?? '')).toBeDefined();
  });

  describe('validation', () => {
    const call = (input: Partial<ConstructorParameters<typeof InvokeEndpointAsyncCommand>[0]>): Promise<unknown> =>
      h.client.send(new InvokeEndpointAsyncCommand({ EndpointName: ENDPOINT, InputLocation: inputLocation, ...input }));

    it('rejects an unknown endpoint with AWS’s ValidationError', async () => {
      expect(await rejection(call({ EndpointName: 'nope' }))).toEqual({
        name: 'ValidationError',
        message: `Endpoint nope of account ${ACCOUNT} not found.`,
        status: 400,
      });
    });

    it.each([
      ['an InferenceId over 64 characters', { InferenceId: 'x'.repeat(65) }, "Value 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' at 'inferenceId' failed to satisfy constraint: Member must have length less than or equal to 64"],
      ['an InferenceId with a non-printable character', { InferenceId: 'id\twith-tab' }, "at 'inferenceId' failed to satisfy constraint: Member must satisfy regular expression pattern"],
      ['RequestTTLSeconds below 60', { RequestTTLSeconds: 59 }, "Value '59' at 'requestTTLSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60"],
      ['RequestTTLSeconds above 21600', { RequestTTLSeconds: 21601 }, "Value '21601' at 'requestTTLSeconds' failed to satisfy constraint: Member must have value less than or equal to 21600"],
      ['InvocationTimeoutSeconds of 0', { InvocationTimeoutSeconds: 0 }, "Value '0' at 'invocationTimeoutSeconds' failed to satisfy constraint: Member must have value greater than or equal to 1"],
      ['InvocationTimeoutSeconds above 3600', { InvocationTimeoutSeconds: 3601 }, "Member must have value less than or equal to 3600"],
      ['an InputLocation that is not a URI', { InputLocation: 'imagegen-images/in.json' }, "at 'inputLocation' failed to satisfy constraint: Member must satisfy regular expression pattern"],
      ['an InputLocation without a key', { InputLocation: 's3://imagegen-images/' }, 'InputLocation s3://imagegen-images/ is not a valid Amazon S3 object URI'],
      ['neither InputLocation nor Body', { InputLocation: undefined }, "Value null at 'inputLocation' failed to satisfy constraint: Member must not be null"],
      ['both InputLocation and Body', { Body: Buffer.from('{}') }, 'Body and InputLocation are mutually exclusive'],
      ['an inline Body over 128,000 bytes', { InputLocation: undefined, Body: Buffer.alloc(128_001, 32) }, 'The inline Body is 128001 bytes; it can be up to 128000 bytes'],
      ['a Filename with two dots', { Filename: 'a.b.c' }, "at 'filename' failed to satisfy constraint"],
    ])('rejects %s', async (_what, input, message) => {
      const error = await rejection(call(input));
      expect(error.name).toBe('ValidationError');
      expect(error.status).toBe(400);
      expect(error.message).toContain(message);
      expect(h.service.stats(ENDPOINT).queued + h.service.stats(ENDPOINT).inFlight).toBe(0);
    });

    it('rejects synchronous InvokeEndpoint on the asynchronous endpoint', async () => {
      const error = await rejection(h.client.send(new InvokeEndpointCommand({ EndpointName: ENDPOINT, Body: Buffer.from('{}') })));
      expect(error).toMatchObject({ name: 'ValidationError', status: 400 });
      expect(error.message).toContain(`Endpoint ${ENDPOINT} of account ${ACCOUNT} is an asynchronous endpoint`);
    });

    it('sends the error type in the x-amzn-errortype header and the message in the body', async () => {
      const response = await fetch(`${h.url}/endpoints/nope/async-invocations`, {
        method: 'POST',
        headers: {
          'x-amzn-sagemaker-inputlocation': inputLocation,
          authorization: 'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sagemaker/aws4_request, SignedHeaders=host, Signature=0',
        },
      });
      expect(response.status).toBe(400);
      expect(response.headers.get('x-amzn-errortype')).toBe('ValidationError');
      expect(await response.json()).toEqual({ message: `Endpoint nope of account ${ACCOUNT} not found.` });
    });
  });

  it('uses Filename and S3OutputPathExtension for the output key', async () => {
    await putInput(h);
    const result = await h.client.send(
      new InvokeEndpointAsyncCommand({ EndpointName: ENDPOINT, InputLocation: inputLocation, S3OutputPathExtension: 'batch-7', Filename: 'result.json' }),
    );
    expect(result.OutputLocation).toBe('s3://imagegen-images/async-output/batch-7/result.json');
    expect(result.FailureLocation).toMatch(/^s3:\/\/imagegen-images\/async-failures\/batch-7\/[0-9a-f-]{36}-error\.out$/);
    await waitFor(() => h.topics.messages.length === 1, 'the success notification');
    expect(h.objects.at(result.OutputLocation ?? '')).toBeDefined();
  });
});

describe('InvokeEndpointAsync failures', () => {
  let h: Harness | undefined;
  let container: FakeContainer | StandInModel | undefined;
  afterEach(async () => {
    await h?.close();
    await container?.close();
    h = undefined;
    container = undefined;
  });

  it('writes the model’s 500 body to the failure location and publishes the error notification, without retrying', async () => {
    const model = await startStandInModel({ inferenceMs: 5, errorRate: 1 });
    container = model;
    h = await startHarness(model.url);
    await putInput(h);
    const result = await h.client.send(
      new InvokeEndpointAsyncCommand({ EndpointName: ENDPOINT, InputLocation: inputLocation, InferenceId: 'inf-bad', ContentType: 'application/json' }),
    );
    await waitFor(() => h?.topics.messages.length === 1, 'the error notification');

    expect(JSON.parse(h.objects.at(result.FailureLocation ?? '')?.body.toString('utf8') ?? '{}')).toEqual({
      message: 'simulated model failure (stand-in errorRate)',
    });
    expect(h.objects.at(result.OutputLocation ?? '')).toBeUndefined();
    const time = new Date(h.clock.now()).toISOString();
    expect(h.topics.messages[0]?.topicArn).toBe(ERROR_TOPIC);
    expect(h.topics.messages[0]?.message).toBe(
      JSON.stringify({
        awsRegion: 'us-east-1',
        eventTime: time,
        receivedTime: time,
        invocationStatus: 'Failed',
        failureReason: 'ClientError: Received server error (500) from model. See the SageMaker Endpoint logs in your account for more information.',
        requestParameters: { contentType: 'application/json', endpointName: ENDPOINT, inputLocation },
        responseParameters: { failureLocation: result.FailureLocation },
        inferenceId: 'inf-bad',
        eventVersion: '1.0',
        eventSource: 'aws:sagemaker',
        eventName: 'InferenceResult',
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(h.topics.messages).toHaveLength(1);
    expect(h.service.stats(ENDPOINT)).toMatchObject({ processed: 0, failed: 1 });
  });

  it('forwards ContentType, Accept and CustomAttributes to the container and reports a 4xx with its message', async () => {
    const fake = await fakeContainer(() => ({ status: 400, contentType: 'application/json', body: '{"message":"width must be 1024"}' }));
    container = fake;
    h = await startHarness(fake.url);
    await putInput(h);
    await h.client.send(
      new InvokeEndpointAsyncCommand({
        EndpointName: ENDPOINT,
        InputLocation: inputLocation,
        ContentType: 'application/json',
        Accept: 'application/json',
        CustomAttributes: 'requestId=req-1',
      }),
    );
    await waitFor(() => h?.topics.messages.length === 1, 'the error notification');
    expect(fake.requests[0]?.headers).toMatchObject({
      'content-type': 'application/json',
      accept: 'application/json',
      'x-amzn-sagemaker-custom-attributes': 'requestId=req-1',
    });
    expect(JSON.parse(fake.requests[0]?.body.toString('utf8') ?? '{}')).toEqual(modelInput);
    const message = JSON.parse(h.topics.messages[0]?.message ?? '{}') as { failureReason: string };
    expect(message.failureReason).toBe(
      'ClientError: Received client error (400) from model with message "{"message":"width must be 1024"}". See the SageMaker Endpoint logs in your account for more information.',
    );
  });

  it('fails an inference that outlives InvocationTimeoutSeconds', async () => {
    const fake = await fakeContainer(() => undefined);
    container = fake;
    h = await startHarness(fake.url);
    await putInput(h);
    const result = await h.client.send(new InvokeEndpointAsyncCommand({ EndpointName: ENDPOINT, InputLocation: inputLocation, InvocationTimeoutSeconds: 2 }));
    await waitFor(() => fake.requests.length === 1, 'the container to be called');
    await h.clock.advance(1999);
    expect(h.topics.messages).toHaveLength(0);
    await h.clock.advance(1);
    await waitFor(() => h?.topics.messages.length === 1, 'the error notification');
    const message = JSON.parse(h.topics.messages[0]?.message ?? '{}') as { failureReason: string; eventTime: string; receivedTime: string };
    expect(message.failureReason).toMatch(/invocation timeout of 2 seconds/);
    expect(Date.parse(message.eventTime) - Date.parse(message.receivedTime)).toBe(2000);
    expect(h.objects.at(result.FailureLocation ?? '')).toBeDefined();
    expect(h.service.stats(ENDPOINT)).toMatchObject({ inFlight: 0, failed: 1 });
  });
});
