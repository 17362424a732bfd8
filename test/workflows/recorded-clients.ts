/**
 * Step Functions task callbacks, SageMaker's InvokeEndpointAsync and EventBridge PutEvents behind
 * the real SDK clients (aws-sdk-client-mock): the task cores only send to them and read back what
 * AWS answers, so they are recorded and answered as AWS answers, not emulated.
 */
import { randomUUID } from 'node:crypto';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { InvokeEndpointAsyncCommand, SageMakerRuntimeClient, type InvokeEndpointAsyncCommandInput } from '@aws-sdk/client-sagemaker-runtime';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';

export interface TokenWaiter {
  resolve(output: unknown): void;
  reject(error: { error: string; cause: string }): void;
}

export class RecordedClients {
  /** Open task tokens; a callback on a missing one fails with TaskTimedOut, as Step Functions does. */
  readonly tokens = new Map<string, TokenWaiter>();
  readonly invocations: InvokeEndpointAsyncCommandInput[] = [];
  readonly published: PutEventsRequestEntry[] = [];
  readonly callbacks: { token: string; kind: 'success' | 'failure'; closed: boolean }[] = [];

  readonly sfn = new SFNClient({ region: 'us-east-1' });
  readonly sagemaker = new SageMakerRuntimeClient({ region: 'us-east-1' });
  readonly events = new EventBridgeClient({ region: 'us-east-1' });

  readonly sfnMock = mockClient(this.sfn);
  readonly sagemakerMock = mockClient(this.sagemaker);
  readonly eventsMock = mockClient(this.events);

  constructor(readonly bucket = 'imagegen-images') {
    this.install();
  }

  /** Forgets every token and call, and re-installs the answers (after a test has overridden one). */
  install(): void {
    this.tokens.clear();
    this.invocations.length = 0;
    this.published.length = 0;
    this.callbacks.length = 0;
    this.sfnMock.reset();
    this.sagemakerMock.reset();
    this.eventsMock.reset();

    this.sfnMock.on(SendTaskSuccessCommand).callsFake(async (input: { taskToken: string; output: string }) => {
      const waiter = this.tokens.get(input.taskToken);
      this.callbacks.push({ token: input.taskToken, kind: 'success', closed: !waiter });
      if (!waiter) throw new TaskTimedOut({ message: 'Task Timed Out', $metadata: { httpStatusCode: 400 } });
      this.tokens.delete(input.taskToken);
      waiter.resolve(JSON.parse(input.output));
      return {};
    });
    this.sfnMock.on(SendTaskFailureCommand).callsFake(async (input: { taskToken: string; error?: string; cause?: string }) => {
      const waiter = this.tokens.get(input.taskToken);
      this.callbacks.push({ token: input.taskToken, kind: 'failure', closed: !waiter });
      if (!waiter) throw new TaskTimedOut({ message: 'Task Timed Out', $metadata: { httpStatusCode: 400 } });
      this.tokens.delete(input.taskToken);
      waiter.reject({ error: input.error ?? '', cause: input.cause ?? '' });
      return {};
    });

    this.sagemakerMock.on(InvokeEndpointAsyncCommand).callsFake(async (input: InvokeEndpointAsyncCommandInput) => {
      this.invocations.push(input);
      const id = randomUUID();
      return {
        InferenceId: input.InferenceId ?? id,
        OutputLocation: `s3://${this.bucket}/async-output/${id}.out`,
        FailureLocation: `s3://${this.bucket}/async-failures/${id}-error.out`,
      };
    });

    this.eventsMock.on(PutEventsCommand).callsFake(async (input: { Entries: PutEventsRequestEntry[] }) => {
      this.published.push(...input.Entries);
      return { FailedEntryCount: 0, Entries: input.Entries.map(() => ({ EventId: randomUUID() })) };
    });
  }

  /** A task token Step Functions will accept; resolves with the SendTaskSuccess output. */
  openToken(token: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.tokens.set(token, { resolve, reject: (e) => reject(Object.assign(new Error(e.cause), { name: e.error })) });
    });
  }

  /** The commands sent to these clients, by SDK command name (`SendTaskSuccessCommand`, …). */
  commandNames(): string[] {
    return [this.sfnMock, this.sagemakerMock, this.eventsMock].flatMap((mock) => mock.calls().map((call) => (call.args[0] as object).constructor.name));
  }
}
