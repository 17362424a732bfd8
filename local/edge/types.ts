/**
 * The contract between the edge server and the service emulators behind it.
 * The edge parses one HTTP request into an `EdgeRequest`, picks the service by the SigV4 signing
 * name (Authorization header or presigned `X-Amz-Credential`), and writes back the `EdgeResponse`.
 */
import type { IncomingHttpHeaders } from 'node:http';

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
}

/** One of the local cloud's own HTTP surfaces (console, chaos), mounted on the edge by path prefix. */
export interface LocalRoute {
  /** e.g. `/_imagegen/console/` */
  readonly prefix: string;
  handle(request: EdgeRequest): Promise<EdgeResponse>;
}
