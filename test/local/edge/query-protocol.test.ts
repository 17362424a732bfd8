import { AwsServiceError } from '../../../local/edge/errors';
import { escapeXml } from '../../../local/shared/xml';
import {
  handleQueryRequest,
  isQueryRequest,
  parseQueryString,
  QueryInput,
  queryErrorXml,
  queryParams,
  queryResponseXml,
  toXml,
  xmlList,
  xmlMap,
} from '../../../local/edge/query-protocol';
import type { EdgeRequest } from '../../../local/edge/types';

function request(body: string, query = '', contentType = 'application/x-www-form-urlencoded; charset=utf-8'): EdgeRequest {
  return {
    method: 'POST',
    rawPath: '/',
    query: new URLSearchParams(query),
    headers: { 'content-type': contentType },
    body: Buffer.from(body),
    signingName: 'sns',
    region: 'us-east-1',
  };
}

describe('parseQueryString', () => {
  it('decodes percent-encoding and plus signs into a flat map', () => {
    const params = parseQueryString('Action=Publish&Message=%7B%22a%22%3A1%7D&Subject=a+b');
    expect(Object.fromEntries(params)).toEqual({ Action: 'Publish', Message: '{"a":1}', Subject: 'a b' });
  });
});

describe('queryParams / isQueryRequest', () => {
  it('overlays the form body on the query string', () => {
    const params = queryParams(request('Action=PutMetricData&Namespace=N', 'Action=ListMetrics&Version=2010-08-01'));
    expect(params.get('Action')).toBe('PutMetricData');
    expect(params.get('Version')).toBe('2010-08-01');
    expect(params.get('Namespace')).toBe('N');
  });

  it('recognises a form body or an Action in the query string, not JSON', () => {
    expect(isQueryRequest(request('Action=X'))).toBe(true);
    expect(isQueryRequest(request('', 'Action=X', 'text/plain'))).toBe(true);
    expect(isQueryRequest(request('{}', '', 'application/x-amz-json-1.0'))).toBe(false);
  });
});

describe('QueryInput', () => {
  const input = new QueryInput(
    parseQueryString(
      [
        'Namespace=ImageGen',
        'MetricData.member.2.MetricName=B',
        'MetricData.member.1.MetricName=A',
        'MetricData.member.1.Dimensions.member.1.Name=EndpointName',
        'MetricData.member.1.Dimensions.member.1.Value=e1',
        'MetricData.member.1.Dimensions.member.10.Name=Variant',
        'MetricData.member.1.Dimensions.member.10.Value=v',
        'MetricData.member.1.Values.member.1=1.5',
        'MetricData.member.1.Values.member.2=2',
        'MetricData.member.2.Dimensions=',
        'MessageAttributes.entry.1.Name=k',
        'MessageAttributes.entry.1.Value.DataType=String',
        'MessageAttributes.entry.1.Value.StringValue=v',
        'Attributes.entry.1.key=DisplayName',
        'Attributes.entry.1.value=hello',
      ].join('&'),
    ),
  );

  it('reads lists of structures in index order, including multi-digit indices', () => {
    const data = input.list('MetricData');
    expect(data.map((d) => d.get('MetricName'))).toEqual(['A', 'B']);
    const dims = data[0]!.list('Dimensions');
    expect(dims.map((d) => [d.get('Name'), d.get('Value')])).toEqual([
      ['EndpointName', 'e1'],
      ['Variant', 'v'],
    ]);
    expect(dims[1]!.prefix).toBe('MetricData.member.1.Dimensions.member.10');
  });

  it('reads scalar lists and treats `Name=` as an empty list', () => {
    expect(input.list('MetricData')[0]!.listValues('Values')).toEqual(['1.5', '2']);
    const second = input.list('MetricData')[1]!;
    expect(second.has('Dimensions')).toBe(true);
    expect(second.list('Dimensions')).toEqual([]);
    expect(second.has('Values')).toBe(false);
  });

  it('reads maps with Name/Value and key/value entries', () => {
    const attributes = input.map('MessageAttributes', { keyName: 'Name', valueName: 'Value' });
    expect(attributes).toHaveLength(1);
    expect(attributes[0]!.key).toBe('k');
    expect(attributes[0]!.value.get('DataType')).toBe('String');
    expect(attributes[0]!.value.get('StringValue')).toBe('v');
    const topic = input.map('Attributes');
    expect(topic.map((e) => [e.key, e.value.value()])).toEqual([['DisplayName', 'hello']]);
  });

  it('reads scalars and nested structures', () => {
    expect(input.get('Namespace')).toBe('ImageGen');
    expect(input.get('Missing')).toBeUndefined();
    expect(input.child('MetricData').child('member').child('1').get('MetricName')).toBe('A');
  });
});

describe('XML writing', () => {
  it('escapes markup and drops characters XML cannot carry', () => {
    expect(escapeXml(`a<b>&"c'\u0001\r`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;&#13;');
  });

  it('renders objects, arrays as <member>, Dates as ISO-8601, and omits undefined', () => {
    const xml = toXml({
      Metrics: [{ Namespace: 'N', Dimensions: [{ Name: 'a', Value: 'x&y' }] }],
      Timestamp: new Date(Date.UTC(2026, 0, 1, 0, 1)),
      Count: 3,
      Ok: true,
      NextToken: undefined,
    });
    expect(xml).toBe(
      '<Metrics><member><Namespace>N</Namespace><Dimensions><member><Name>a</Name><Value>x&amp;y</Value></member></Dimensions></member></Metrics>' +
        '<Timestamp>2026-01-01T00:01:00.000Z</Timestamp><Count>3</Count><Ok>true</Ok>',
    );
  });

  it('renders custom list member names and maps', () => {
    expect(toXml({ L: xmlList(['a', 'b'], 'item') })).toBe('<L><item>a</item><item>b</item></L>');
    expect(toXml({ Attributes: xmlMap({ K: 'v' }) })).toBe('<Attributes><entry><key>K</key><value>v</value></entry></Attributes>');
  });

  it('wraps a result in the Action response envelope, or omits an undefined result', () => {
    expect(queryResponseXml('Publish', 'http://sns.amazonaws.com/doc/2010-03-31/', { MessageId: 'm1' }, 'r1')).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">' +
        '<PublishResult><MessageId>m1</MessageId></PublishResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></PublishResponse>',
    );
    expect(queryResponseXml('PutMetricData', 'ns', undefined, 'r2')).not.toContain('PutMetricDataResult');
  });

  it('renders an AwsServiceError with its Query code and fault', () => {
    const error = new AwsServiceError('InvalidParameterValueException', 'bad <value>', 400, 'InvalidParameterValue');
    expect(queryErrorXml(error, 'ns', 'r3')).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="ns"><Error><Type>Sender</Type><Code>InvalidParameterValue</Code>' +
        '<Message>bad &lt;value&gt;</Message></Error><RequestId>r3</RequestId></ErrorResponse>',
    );
    expect(queryErrorXml(new AwsServiceError('InternalFailure', 'x', 500), 'ns', 'r')).toContain('<Type>Receiver</Type><Code>InternalFailure</Code>');
  });
});

describe('handleQueryRequest', () => {
  const options = {
    name: 'test',
    xmlns: 'urn:test',
    operations: {
      Echo: (input: QueryInput) => ({ Value: input.get('Value') }),
      Fail: () => {
        throw new AwsServiceError('NotFoundException', 'no such thing', 404, 'NotFound');
      },
    },
  };

  it('dispatches on Action and answers with the XML envelope', async () => {
    const response = await handleQueryRequest(request('Action=Echo&Value=hi'), options);
    expect(response.status).toBe(200);
    expect(response.headers?.['content-type']).toBe('text/xml');
    expect(String(response.body)).toContain('<EchoResponse xmlns="urn:test"><EchoResult><Value>hi</Value></EchoResult>');
    expect(String(response.body)).toContain(`<RequestId>${response.headers?.['x-amzn-requestid']}</RequestId>`);
  });

  it('renders thrown service errors with their status', async () => {
    const response = await handleQueryRequest(request('Action=Fail'), options);
    expect(response.status).toBe(404);
    expect(String(response.body)).toContain('<Code>NotFound</Code><Message>no such thing</Message>');
  });

  it('rejects unknown and missing actions', async () => {
    const unknown = await handleQueryRequest(request('Action=toString'), options);
    expect(unknown.status).toBe(400);
    expect(String(unknown.body)).toContain('<Code>InvalidAction</Code>');
    const missing = await handleQueryRequest(request('Value=1'), options);
    expect(String(missing.body)).toContain('<Code>MissingAction</Code>');
  });
});
