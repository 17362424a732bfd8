/**
 * Completing and failing a task token: a duplicate or late callback (the token already closed) is a
 * no-op reported as `false`; any other Step Functions error reaches the caller; a long cause is cut
 * to the API's limit instead of being refused.
 */
import { InvalidOutput, InvalidToken, SendTaskFailureCommand, SendTaskSuccessCommand, TaskDoesNotExist, TaskTimedOut } from '@aws-sdk/client-sfn';
import { sendFailure, sendSuccess } from '../../../tasks/shared/tokens';
import { RecordedClients } from '../../workflows/recorded-clients';
import { silentLogger } from '../../workflows/harness';

const answer = { message: 'from Step Functions', $metadata: { httpStatusCode: 400 } };
const CLOSED = [
  ['TaskTimedOut', () => new TaskTimedOut(answer)],
  ['TaskDoesNotExist', () => new TaskDoesNotExist(answer)],
  ['InvalidToken', () => new InvalidToken(answer)],
] as const;

describe('task token callbacks', () => {
  let cloud: RecordedClients;
  beforeEach(() => {
    cloud = new RecordedClients();
  });

  it('completes an open token with the output as JSON and fails another with its error and cause', async () => {
    const done = cloud.openToken('t1');
    const failed = cloud.openToken('t2').catch((e: Error) => ({ name: e.name, cause: e.message }));
    expect(await sendSuccess(cloud.sfn, 't1', { requestId: 'r1' }, silentLogger)).toBe(true);
    expect(await done).toEqual({ requestId: 'r1' });
    expect(await sendFailure(cloud.sfn, 't2', 'InferenceFailed', 'model error', silentLogger)).toBe(true);
    expect(await failed).toEqual({ name: 'InferenceFailed', cause: 'model error' });
  });

  it.each(CLOSED)('treats %s on SendTaskSuccess as a token already closed', async (_name, error) => {
    cloud.sfnMock.on(SendTaskSuccessCommand).rejects(error());
    await expect(sendSuccess(cloud.sfn, 't1', {}, silentLogger)).resolves.toBe(false);
  });

  it.each(CLOSED)('treats %s on SendTaskFailure as a token already closed', async (_name, error) => {
    cloud.sfnMock.on(SendTaskFailureCommand).rejects(error());
    await expect(sendFailure(cloud.sfn, 't1', 'InferenceFailed', 'model error', silentLogger)).resolves.toBe(false);
  });

  it('passes any other Step Functions error to the caller', async () => {
    cloud.sfnMock.on(SendTaskSuccessCommand).rejects(new InvalidOutput(answer)).on(SendTaskFailureCommand).rejects(new InvalidOutput(answer));
    await expect(sendSuccess(cloud.sfn, 't1', {}, silentLogger)).rejects.toBeInstanceOf(InvalidOutput);
    await expect(sendFailure(cloud.sfn, 't1', 'InferenceFailed', 'model error', silentLogger)).rejects.toBeInstanceOf(InvalidOutput);
  });

  it("cuts a cause to SendTaskFailure's 32,768-character limit", async () => {
    const failed = cloud.openToken('t1').catch((e: Error) => e.message);
    const cause = `${'c'.repeat(32768)}beyond the limit`;
    expect(await sendFailure(cloud.sfn, 't1', 'InferenceFailed', cause, silentLogger)).toBe(true);
    expect(cloud.sfnMock.commandCalls(SendTaskFailureCommand)[0]!.args[0].input.cause).toBe('c'.repeat(32768));
    expect(await failed).toBe('c'.repeat(32768));
  });
});
