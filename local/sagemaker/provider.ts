/**
 * SageMaker's wire operations ↔ the endpoint domain. The runtime (`InvokeEndpointAsync`, rest-json)
 * and the control plane Application Auto Scaling uses (JSON 1.1, `SageMaker.*`) share the signing
 * name `sagemaker`; the `X-Amz-Target` header tells them apart.
 */
import { randomUUID } from 'node:crypto';
import { AwsServiceError } from '../edge/errors';
import { jsonService } from '../edge/json-protocol';
import type { EdgeRequest, EdgeResponse, ServiceHandler } from '../edge/types';
import { inputReaders, type Raw } from '../shared/input';
import { paginate } from '../shared/pagination';
import { parseAsyncInvoke, validationError, type AsyncInvokeRequest } from './invoke-request';
import type { AsyncEndpoint, Invocation } from './models';
import { s3Uri } from './processing';

/** What the provider needs of the service. */
export interface SageMakerDomain {
  readonly account: string;
  /** The endpoint's clock. */
  now(): number;
  endpointArn(name: string): string;
  /** Every endpoint, newest first. */
  endpoints(): readonly AsyncEndpoint[];
  /** The endpoint, or the control plane's ValidationException. */
  endpoint(name: string): AsyncEndpoint;
  /** The endpoint's variant, or the control plane's ValidationException. */
  variant(endpointName: string, variantName: string): AsyncEndpoint;
  setDesiredInstanceCount(endpointName: string, variantName: string, desired: number): void;
  /** Keeps an accepted request durably and queues it: the 202 follows. */
  accept(endpoint: AsyncEndpoint, invocation: Invocation): void;
}

const read = inputReaders({
  missing: (field) => constraint('null', field, 'not be null'),
  invalid: (field, detail) => new AwsServiceError('ValidationException', `1 validation error detected: Value at '${camel(field)}' ${detail}`),
});

export function sagemakerHandler(domain: SageMakerDomain): ServiceHandler {
  const controlPlane = jsonService({
    name: 'sagemaker',
    signingNames: ['sagemaker'],
    targetPrefix: 'SageMaker',
    version: '1.1',
    operations: {
      DescribeEndpoint: (input) => describeEndpoint(domain, input),
      ListEndpoints: (input) => listEndpoints(domain, input),
      UpdateEndpointWeightsAndCapacities: (input) => updateWeightsAndCapacities(domain, input),
    },
  });
  const control = controlPlane.api;
  return {
    name: 'sagemaker',
    signingNames: ['sagemaker'],
    handle: (request) => (request.headers['x-amz-target'] !== undefined ? controlPlane.handle(request) : runtime(domain, request)),
    api: {
      operations: [...(control?.operations ?? []), 'InvokeEndpointAsync'],
      operationOf: (request) => (request.headers['x-amz-target'] !== undefined ? control?.operationOf(request) : runtimeOperation(request)),
      errorResponse: (error, request) => (request.headers['x-amz-target'] !== undefined && control ? control.errorResponse(error, request) : runtimeError(error)),
    },
  };
}

async function runtime(domain: SageMakerDomain, request: EdgeRequest): Promise<EdgeResponse> {
  try {
    const match = /^\/endpoints\/([^/]+)\/(async-invocations|invocations|invocations-response-stream)$/.exec(request.rawPath);
    if (!match?.[1] || request.method !== 'POST') {
      throw new AwsServiceError('UnknownOperationException', `SageMaker Runtime has no operation ${request.method} ${request.rawPath}`, 404);
    }
    const name = decodePathLabel(match[1]);
    if (match[2] !== 'async-invocations') {
      runtimeEndpoint(domain, name);
      throw validationError(
        `Endpoint ${name} of account ${domain.account} is an asynchronous endpoint and does not support ${match[2] === 'invocations' ? 'InvokeEndpoint' : 'InvokeEndpointWithResponseStream'}. Use InvokeEndpointAsync.`,
      );
    }
    const parsed = parseAsyncInvoke(request, name);
    const endpoint = runtimeEndpoint(domain, name);
    const invocation = newInvocation(endpoint, parsed, domain.now());
    domain.accept(endpoint, invocation);
    return {
      status: 202,
      headers: {
        'content-type': 'application/json',
        'x-amzn-sagemaker-outputlocation': s3Uri(invocation.output),
        'x-amzn-sagemaker-failurelocation': s3Uri(invocation.failure),
      },
      body: JSON.stringify({ InferenceId: invocation.inferenceId }),
    };
  } catch (error) {
    if (!(error instanceof AwsServiceError)) throw error;
    return runtimeError(error);
  }
}

/** The runtime's rest-json error: the exception name in `x-amzn-errortype`. */
function runtimeError(error: AwsServiceError): EdgeResponse {
  return { status: error.status, headers: { 'content-type': 'application/json', 'x-amzn-errortype': error.code }, body: JSON.stringify({ message: error.message }) };
}

function runtimeOperation(request: EdgeRequest): string | undefined {
  return request.method === 'POST' && /^\/endpoints\/[^/]+\/async-invocations$/.test(request.rawPath) ? 'InvokeEndpointAsync' : undefined;
}

/** The runtime words an unknown endpoint differently from the control plane. */
function runtimeEndpoint(domain: SageMakerDomain, name: string): AsyncEndpoint {
  const endpoint = domain.endpoints().find((e) => e.config.name === name);
  if (!endpoint) throw validationError(`Endpoint ${name} of account ${domain.account} not found.`);
  return endpoint;
}

function newInvocation(endpoint: AsyncEndpoint, request: AsyncInvokeRequest, receivedAt: number): Invocation {
  const { output, failure } = endpoint.config;
  // The object name is a fresh UUID, not the inference id (as observed on AWS).
  const id = randomUUID();
  return {
    id,
    request,
    inferenceId: request.inferenceId ?? randomUUID(),
    receivedAt,
    output: { bucket: output.bucket, key: joinKey(output.prefix, request.outputPathExtension ?? '', request.filename ?? `${id}.out`) },
    failure: { bucket: failure.bucket, key: joinKey(failure.prefix, request.outputPathExtension ?? '', `${id}-error.out`) },
  };
}

function describeEndpoint(domain: SageMakerDomain, input: Raw): unknown {
  const endpoint = domain.endpoint(read.requiredString(input, 'EndpointName'));
  const { config } = endpoint;
  return {
    EndpointName: config.name,
    EndpointArn: domain.endpointArn(config.name),
    EndpointConfigName: config.name,
    ProductionVariants: [
      { VariantName: config.variantName, CurrentWeight: 1, DesiredWeight: 1, CurrentInstanceCount: endpoint.inService, DesiredInstanceCount: endpoint.desired },
    ],
    EndpointStatus: endpoint.status,
    CreationTime: endpoint.createdAt / 1000,
    LastModifiedTime: endpoint.modifiedAt / 1000,
    AsyncInferenceConfig: {
      ClientConfig: { MaxConcurrentInvocationsPerInstance: config.maxConcurrentInvocationsPerInstance },
      OutputConfig: {
        S3OutputPath: `s3://${config.output.bucket}/${config.output.prefix}`,
        S3FailurePath: `s3://${config.failure.bucket}/${config.failure.prefix}`,
        NotificationConfig: {
          ...(config.successTopicArn ? { SuccessTopic: config.successTopicArn } : {}),
          ...(config.errorTopicArn ? { ErrorTopic: config.errorTopicArn } : {}),
        },
      },
    },
  };
}

function listEndpoints(domain: SageMakerDomain, input: Raw): unknown {
  const nameContains = read.optionalString(input, 'NameContains');
  const status = read.optionalString(input, 'StatusEquals');
  const maxResults = input.MaxResults ?? 10;
  if (typeof maxResults !== 'number' || !Number.isInteger(maxResults) || maxResults < 1 || maxResults > 100) {
    throw constraint(`'${String(maxResults)}'`, 'MaxResults', 'have value between 1 and 100');
  }
  const matching = domain
    .endpoints()
    .filter((e) => nameContains === undefined || e.config.name.toLowerCase().includes(nameContains.toLowerCase()))
    .filter((e) => status === undefined || e.status === status);
  const page = paginate(matching, maxResults, input.NextToken, {
    defaultSize: 10,
    maxSize: 100,
    invalidToken: () => new AwsServiceError('ValidationException', 'The NextToken is not valid.'),
  });
  return {
    Endpoints: page.items.map((e) => ({
      EndpointName: e.config.name,
      EndpointArn: domain.endpointArn(e.config.name),
      CreationTime: e.createdAt / 1000,
      LastModifiedTime: e.modifiedAt / 1000,
      EndpointStatus: e.status,
    })),
    ...(page.nextToken !== undefined ? { NextToken: page.nextToken } : {}),
  };
}

function updateWeightsAndCapacities(domain: SageMakerDomain, input: Raw): unknown {
  const name = read.requiredString(input, 'EndpointName');
  const endpoint = domain.endpoint(name);
  const updates = read.optionalArray(input, 'DesiredWeightsAndCapacities');
  if (updates.length === 0) throw constraint('[]', 'DesiredWeightsAndCapacities', 'have length greater than or equal to 1');
  // Validate every entry before applying any, so a bad request changes nothing.
  const changes = updates.map((update: unknown) => {
    const entry = (typeof update === 'object' && update !== null ? update : {}) as Raw;
    const variantName = read.requiredString(entry, 'VariantName');
    domain.variant(name, variantName);
    const count = entry.DesiredInstanceCount;
    if (count !== undefined && (typeof count !== 'number' || !Number.isInteger(count) || count < 0)) {
      throw constraint(`'${String(count)}'`, 'desiredWeightsAndCapacities.1.member.desiredInstanceCount', 'have value greater than or equal to 0');
    }
    return { variantName, count };
  });
  for (const { variantName, count } of changes) {
    if (typeof count === 'number') domain.setDesiredInstanceCount(name, variantName, count);
  }
  return { EndpointArn: domain.endpointArn(endpoint.config.name) };
}

function constraint(shown: string, field: string, rule: string): AwsServiceError {
  return new AwsServiceError('ValidationException', `1 validation error detected: Value ${shown} at '${camel(field)}' failed to satisfy constraint: Member must ${rule}`);
}

const camel = (field: string): string => `${field[0]?.toLowerCase() ?? ''}${field.slice(1)}`;

function decodePathLabel(label: string): string {
  try {
    return decodeURIComponent(label);
  } catch {
    throw validationError(`The endpoint name in the path is not valid percent-encoding: ${label}`);
  }
}

function joinKey(...parts: string[]): string {
  return parts
    .filter((p) => p !== '')
    .map((p, i, all) => (i < all.length - 1 && !p.endsWith('/') ? `${p}/` : p))
    .join('');
}
