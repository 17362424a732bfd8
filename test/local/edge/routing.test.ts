/**
 * Edge routing: signed requests go by their SigV4 scope; unsigned ones by protocol (X-Amz-Target,
 * Query Action + Version, REST path), and anything else to S3.
 */
import { EdgeServer } from '../../../local/edge/server';
import type { ServiceHandler } from '../../../local/edge/types';

const NAMES = ['s3', 'states', 'events', 'dynamodb', 'monitoring', 'application-autoscaling', 'sagemaker', 'sns', 'lambda'];

/** A service that answers with its own name, so each request shows where it was routed. */
const echo = (name: string): ServiceHandler => ({
  name,
  signingNames: [name],
  handle: async () => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: name }),
});

describe('edge routing', () => {
  let edge: EdgeServer;
  let url: string;

  beforeAll(async () => {
    edge = new EdgeServer({ services: NAMES.map(echo), port: 0, region: 'us-east-1' });
    url = await edge.listen();
  });
  afterAll(() => edge.close());

  const routed = async (path: string, init: RequestInit = {}) => (await fetch(`${url}${path}`, init)).text();
  const form = (body: string): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  const target = (value: string): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': value }, body: '{}' });

  it('routes unsigned JSON requests by their X-Amz-Target', async () => {
    await expect(routed('/', target('AWSStepFunctions.ListStateMachines'))).resolves.toBe('states');
    await expect(routed('/', target('AWSEvents.PutEvents'))).resolves.toBe('events');
    await expect(routed('/', target('DynamoDB_20120810.Scan'))).resolves.toBe('dynamodb');
    await expect(routed('/', target('GraniteServiceVersion20100801.GetMetricData'))).resolves.toBe('monitoring');
    await expect(routed('/', target('AnyScaleFrontendService.DescribeScalableTargets'))).resolves.toBe('application-autoscaling');
    await expect(routed('/', target('SageMaker.ListEndpoints'))).resolves.toBe('sagemaker');
  });

  it('tells apart the two Query services by API version', async () => {
    await expect(routed('/', form('Action=Publish&Version=2010-03-31&TopicArn=x&Message=m'))).resolves.toBe('sns');
    await expect(routed('/', form('Action=PutMetricData&Version=2010-08-01&Namespace=n'))).resolves.toBe('monitoring');
  });

  it('routes REST requests by path, and everything else to S3', async () => {
    await expect(routed('/endpoints/imagegen-sdxl/async-invocations', { method: 'POST' })).resolves.toBe('sagemaker');
    await expect(routed('/2015-03-31/functions/f/invocations', { method: 'POST', body: '{}' })).resolves.toBe('lambda');
    await expect(routed('/imagegen-images/images/x/original.png')).resolves.toBe('s3');
  });

  it('lets a SigV4 scope win over what the protocol suggests', async () => {
    const signed = (service: string): RequestInit => ({
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AWSEvents.PutEvents',
        authorization: `AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0`,
      },
      body: '{}',
    });
    await expect(routed('/', signed('sns'))).resolves.toBe('sns');
    await expect(routed('/?X-Amz-Credential=AKID%2F20260101%2Fus-east-1%2Fs3%2Faws4_request', { method: 'GET' })).resolves.toBe('s3');
  });
});
