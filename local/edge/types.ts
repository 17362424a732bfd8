/**
 * The contract between the edge server and the service emulators behind it.
 * The edge parses one HTTP request into an `EdgeRequest`, picks the service by the SigV4 signing
 * name (Authorization header or presigned `X-Amz-Credential`), and writes back the `EdgeResponse`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { AwsServiceError } from './errors';

export interface EdgeRequest {
  readonly method: string;
  /** Raw (still percent-encoded) path, e.g. `/imagegen-images/images/a%20b.png`. */
  readonly rawPath: string;
  readonly query: URLSearchParams;
  /** Lower-cased header names, as Node gives them. */
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** SigV4 signing name (`s3`, `states`, `events`, `sns`, `monitoring`, `sagemaker`, `dynamodb`, …); undefined when unsigned. */
  readonly signingName: string | undefined;
  /** Region from the SigV4 credential scope, else the cloud's region. */
  readonly region: string;
}

export interface EdgeResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer | string;
}

export interface ServiceHandler {
  /** Short name for logs, e.g. `stepfunctions`. */
  readonly name: string;
  /** SigV4 signing names this service answers. */
  readonly signingNames: readonly string[];
  handle(request: EdgeRequest): Promise<EdgeResponse>;
  /** What API fault rules need of the service; without it the edge injects no API faults into it. */
  readonly api?: ApiSurface;
}

/** A service's operations and its own error shape, so an injected API fault reads as the service's own. */
export interface ApiSurface {
  /** Operations it answers, by AWS's names (`GetObject`, `Publish`, `SendTaskSuccess`). */
  readonly operations: readonly string[];
  /** The operation a request calls; undefined when it names none the service knows. */
  operationOf(request: EdgeRequest): string | undefined;
  errorResponse(error: AwsServiceError, request: EdgeRequest): EdgeResponse;
}

/** Decides API faults at the edge (local/chaos). */
export interface ApiFaults {
  /** False when no rule is in force. */
  readonly active: boolean;
  /** The error to answer instead of calling `service`, if a rule fires. */
  apiError(service: string, operation: string | undefined): AwsServiceError | undefined;
}

/** One of the local cloud's own HTTP surfaces (console, chaos), mounted on the edge by path prefix. */
export interface LocalRoute {
  /** e.g. `/_imagegen/console/` */
  readonly prefix: string;
  handle(request: EdgeRequest): Promise<EdgeResponse>;
}
