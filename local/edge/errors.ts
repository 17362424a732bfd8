/**
 * A service error as AWS names it. Service emulators throw these; each protocol adapter renders
 * them in its own wire shape (JSON `__type`, Query `<Error><Code>`, REST `x-amzn-errortype`, S3 XML)
 * so SDK clients raise the documented exception names.
 */
export class AwsServiceError extends Error {
  override readonly name = 'AwsServiceError';
  constructor(
    /** The modelled exception name, e.g. `TaskTimedOut`, `NoSuchKey`, `ValidationException`. */
    readonly code: string,
    message: string,
    readonly status = 400,
    /** Query-protocol code when it differs from `code` (e.g. `InvalidParameterValue`). */
    readonly queryCode?: string,
    /** `Sender` for client faults, `Receiver` for server faults. */
    readonly fault: 'Sender' | 'Receiver' = status >= 500 ? 'Receiver' : 'Sender',
  ) {
    super(message);
  }
}
