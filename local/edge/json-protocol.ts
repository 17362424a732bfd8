/**
 * AWS JSON 1.0 / 1.1 protocol: `POST /` with `X-Amz-Target: <Prefix>.<Operation>` and a JSON body.
 * Used by Step Functions, EventBridge, CloudWatch (query-compatible mode), Application Auto Scaling.
 */
import { AwsServiceError } from './errors';
import type { EdgeRequest, EdgeResponse, ServiceHandler } from './types';

export type JsonOperation = (input: Record<string, unknown>, request: EdgeRequest) => Promise<unknown> | unknown;

export interface JsonServiceOptions {
  readonly name: string;
  readonly signingNames: readonly string[];
  /** Target prefix before the dot, e.g. `AWSStepFunctions`. */
  readonly targetPrefix: string;
  readonly version: '1.0' | '1.1';
  /** Prefix for `__type`, e.g. `com.amazonaws.cloudwatch#`. @default none */
  readonly errorTypePrefix?: string;
  /** Emit `x-amzn-query-error` for query-compatible services (CloudWatch). @default false */
  readonly queryCompatible?: boolean;
  readonly operations: Readonly<Record<string, JsonOperation>>;
  /** Requests that are not JSON (e.g. CloudWatch Query) go here. */
  readonly fallback?: (request: EdgeRequest) => Promise<EdgeResponse>;
}

export function jsonResponse(body: unknown, version: '1.0' | '1.1', status = 200): EdgeResponse {
  return {
    status,
    headers: { 'content-type': `application/x-amz-json-${version}` },
    body: JSON.stringify(body ?? {}),
  };
}

export function jsonErrorResponse(error: AwsServiceError, options: Pick<JsonServiceOptions, 'version' | 'errorTypePrefix' | 'queryCompatible'>): EdgeResponse {
  const headers: Record<string, string> = {
    'content-type': `application/x-amz-json-${options.version}`,
    'x-amzn-errortype': error.code,
  };
  if (options.queryCompatible) headers['x-amzn-query-error'] = `${error.queryCode ?? error.code};${error.fault}`;
  return {
    status: error.status,
    headers,
    body: JSON.stringify({ __type: `${options.errorTypePrefix ?? ''}${error.code}`, message: error.message }),
  };
}

/** The operation a JSON request names in `X-Amz-Target`, if it is one of `options`'. */
export function jsonOperation(request: EdgeRequest, options: Pick<JsonServiceOptions, 'targetPrefix' | 'operations'>): string | undefined {
  const target = request.headers['x-amz-target'];
  if (typeof target !== 'string') return undefined;
  const [prefix, operation] = target.split('.');
  return prefix === options.targetPrefix && operation !== undefined && Object.hasOwn(options.operations, operation) ? operation : undefined;
}

export function jsonService(options: JsonServiceOptions): ServiceHandler {
  return {
    name: options.name,
    signingNames: options.signingNames,
    api: {
      operations: Object.keys(options.operations),
      operationOf: (request) => jsonOperation(request, options),
      errorResponse: (error) => jsonErrorResponse(error, options),
    },
    async handle(request) {
      const target = request.headers['x-amz-target'];
      if (typeof target !== 'string') {
        if (options.fallback) return options.fallback(request);
        return jsonErrorResponse(new AwsServiceError('UnknownOperationException', 'missing X-Amz-Target'), options);
      }
      const [prefix, operation] = target.split('.');
      const op = prefix === options.targetPrefix && operation ? options.operations[operation] : undefined;
      if (!op) {
        return jsonErrorResponse(
          new AwsServiceError('UnknownOperationException', `${options.name} does not emulate ${target}`),
          options,
        );
      }
      let input: Record<string, unknown>;
      try {
        input = request.body.length ? (JSON.parse(request.body.toString('utf8')) as Record<string, unknown>) : {};
      } catch {
        return jsonErrorResponse(new AwsServiceError('SerializationException', 'request body is not valid JSON'), options);
      }
      try {
        return jsonResponse(await op(input, request), options.version);
      } catch (error) {
        if (error instanceof AwsServiceError) return jsonErrorResponse(error, options);
        throw error;
      }
    },
  };
}
