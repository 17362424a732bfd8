import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { LogSink } from './observability';

/** Errors meaning the token is already closed (a duplicate or late callback): a no-op, not a failure. */
export const CLOSED_TOKEN_ERRORS = ['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken'];

const isClosed = (e: unknown) => CLOSED_TOKEN_ERRORS.includes((e as { name?: string })?.name ?? '');

/** Completes a token; returns false when it was already closed. */
export async function sendSuccess(sfn: SFNClient, taskToken: string, output: unknown, logger: LogSink): Promise<boolean> {
  try {
    await sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
    return true;
  } catch (error) {
    if (!isClosed(error)) throw error;
    logger.info('task token already closed', { error: (error as Error).name });
    return false;
  }
}

/** Fails a token (`cause` cut to the API's 32,768 limit); returns false when it was already closed. */
export async function sendFailure(sfn: SFNClient, taskToken: string, error: string, cause: string, logger: LogSink): Promise<boolean> {
  try {
    await sfn.send(new SendTaskFailureCommand({ taskToken, error, cause: cause.slice(0, 32768) }));
    return true;
  } catch (e) {
    if (!isClosed(e)) throw e;
    logger.info('task token already closed', { error: (e as Error).name });
    return false;
  }
}
