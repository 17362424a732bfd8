import { compilePattern, eventMatchesPattern, parseIp } from '../../../local/events/pattern';

/**
 * Cases from the EventBridge user guide: "Event patterns", "Content filtering in Amazon EventBridge
 * event patterns", "Comparison operators for use in event patterns", "Arrays in Amazon EventBridge
 * event patterns" and "Matching null values and empty strings". Each row: the pattern, an event,
 * and whether it matches.
 */
const ec2 = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', state: 'terminated' },
};

function withDetail(detail: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...ec2, ...extra, detail };
}

type Case = [name: string, pattern: Record<string, unknown>, event: Record<string, unknown>, matches: boolean];

const cases: Case[] = [
  // Event patterns: exact values, AND across keys, OR inside arrays
  ['EC2 termination pattern', { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'], detail: { state: ['terminated'] } }, ec2, true],
  ['other state does not match', { source: ['aws.ec2'], detail: { state: ['running'] } }, ec2, false],
  ['OR of sources', { source: ['aws.ec2', 'aws.fargate'] }, ec2, true],
  ['OR of sources, none matches', { source: ['aws.s3', 'aws.fargate'] }, ec2, false],
  ['AND: one key fails', { source: ['aws.ec2'], region: ['us-east-1'] }, ec2, false],
  ['field missing from event', { detail: { 'no-such-field': ['x'] } }, ec2, false],
  ['matching is case sensitive', { source: ['AWS.EC2'] }, ec2, false],
  ['nesting must line up', { state: ['terminated'] }, ec2, false],
  ['number exact', { detail: { count: [5] } }, withDetail({ count: 5 }), true],
  ['number vs string', { detail: { count: ['5'] } }, withDetail({ count: 5 }), false],
  ['string vs number', { detail: { count: [5] } }, withDetail({ count: '5' }), false],
  ['number notation normalised (3.018e2 = 301.8)', { detail: { x: [3.018e2] } }, withDetail({ x: 301.8 }), true],
  ['boolean true', { detail: { ok: [true] } }, withDetail({ ok: true }), true],
  ['boolean false vs true', { detail: { ok: [false] } }, withDetail({ ok: true }), false],
  ['empty pattern object matches everything', {}, ec2, true],
  ['empty nested pattern object adds no condition', { detail: {} }, ec2, true],
  // Arrays
  ['array event field: intersection non-empty', { resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f', 'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f'] }, { ...ec2, resources: ['arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b', 'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f'] }, true],
  ['array event field: empty intersection', { resources: ['arn:x'] }, { ...ec2, resources: ['arn:y', 'arn:z'] }, false],
  ['array of objects: one element satisfies the whole sub-pattern', { detail: { items: { name: ['a'], size: [1] } } }, withDetail({ items: [{ name: 'a', size: 1 }, { name: 'b', size: 2 }] }), true],
  ['array of objects: fields are not mixed across elements', { detail: { items: { name: ['a'], size: [2] } } }, withDetail({ items: [{ name: 'a', size: 1 }, { name: 'b', size: 2 }] }), false],
  // Null and empty strings
  ['empty string', { detail: { eventVersion: [''] } }, withDetail({ eventVersion: '', responseElements: null }), true],
  ['null', { detail: { responseElements: [null] } }, withDetail({ eventVersion: '', responseElements: null }), true],
  ['empty string does not match null', { detail: { responseElements: [''] } }, withDetail({ responseElements: null }), false],
  ['null does not match empty string', { detail: { eventVersion: [null] } }, withDetail({ eventVersion: '' }), false],
  ['null does not match a missing field', { detail: { missing: [null] } }, withDetail({}), false],
  // Prefix / suffix
  ['prefix on time', { time: [{ prefix: '2017-12-22' }] }, ec2, true],
  ['prefix not matching', { time: [{ prefix: '2017-10-02' }] }, ec2, false],
  ['prefix only on strings', { detail: { n: [{ prefix: '12' }] } }, withDetail({ n: 123 }), false],
  ['prefix equals-ignore-case', { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } }, withDetail({ service: 'eventbridge' }), true],
  ['prefix equals-ignore-case upper', { detail: { service: [{ prefix: { 'equals-ignore-case': 'eventb' } }] } }, withDetail({ service: 'EVENTBRIDGE' }), true],
  ['prefix is case sensitive without ignore-case', { detail: { service: [{ prefix: 'EventB' }] } }, withDetail({ service: 'eventbridge' }), false],
  ['suffix .png', { detail: { FileName: [{ suffix: '.png' }] } }, withDetail({ FileName: 'image.png' }), true],
  ['suffix .png vs .PNG', { detail: { FileName: [{ suffix: '.png' }] } }, withDetail({ FileName: 'image.PNG' }), false],
  ['suffix equals-ignore-case', { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } }, withDetail({ FileName: 'image.PNG' }), true],
  // Anything-but
  ['anything-but string', { detail: { state: [{ 'anything-but': 'initializing' }] } }, withDetail({ state: 'running' }), true],
  ['anything-but string excluded', { detail: { state: [{ 'anything-but': 'initializing' }] } }, withDetail({ state: 'initializing' }), false],
  ['anything-but number', { detail: { 'x-limit': [{ 'anything-but': 123 }] } }, withDetail({ 'x-limit': 124 }), true],
  ['anything-but number excluded', { detail: { 'x-limit': [{ 'anything-but': 123 }] } }, withDetail({ 'x-limit': 123 }), false],
  ['anything-but list of strings', { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } }, withDetail({ state: 'overloaded' }), false],
  ['anything-but list of strings, other value', { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } }, withDetail({ state: 'running' }), true],
  ['anything-but list of numbers', { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } }, withDetail({ 'x-limit': 200 }), false],
  ['anything-but list of numbers, other value', { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } }, withDetail({ 'x-limit': 150 }), true],
  ['anything-but needs the field to exist', { detail: { state: [{ 'anything-but': 'initializing' }] } }, withDetail({}), false],
  ['anything-but prefix', { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }, withDetail({ state: 'initializing' }), false],
  ['anything-but prefix, other value', { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }, withDetail({ state: 'running' }), true],
  ['anything-but suffix', { detail: { FileName: [{ 'anything-but': { suffix: '.png' } }] } }, withDetail({ FileName: 'a.png' }), false],
  ['anything-but suffix, other value', { detail: { FileName: [{ 'anything-but': { suffix: '.png' } }] } }, withDetail({ FileName: 'a.jpg' }), true],
  ['anything-but equals-ignore-case', { detail: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] } }, withDetail({ state: 'INITIALIZING' }), false],
  ['anything-but equals-ignore-case list', { detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['stopped', 'overloaded'] } }] } }, withDetail({ state: 'Running' }), true],
  ['anything-but wildcard', { detail: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] } }, withDetail({ FilePath: '/usr/lib/x.so' }), false],
  ['anything-but wildcard, other value', { detail: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] } }, withDetail({ FilePath: '/usr/bin/x' }), true],
  ['anything-but on an array field: some element differs', { detail: { tags: [{ 'anything-but': 'a' }] } }, withDetail({ tags: ['a', 'b'] }), true],
  // Numeric
  ['numeric range (0,5]', { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } }, withDetail({ 'c-count': 5 }), true],
  ['numeric range lower bound exclusive', { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } }, withDetail({ 'c-count': 0 }), false],
  ['numeric < 10', { detail: { 'd-count': [{ numeric: ['<', 10] }] } }, withDetail({ 'd-count': 9.5 }), true],
  ['numeric < 10 with 10', { detail: { 'd-count': [{ numeric: ['<', 10] }] } }, withDetail({ 'd-count': 10 }), false],
  ['numeric = 3.018e2', { detail: { 'x-limit': [{ numeric: ['=', 3.018e2] }] } }, withDetail({ 'x-limit': 301.8 }), true],
  ['numeric >= ', { detail: { n: [{ numeric: ['>=', 10] }] } }, withDetail({ n: 10 }), true],
  ['numeric on a string value', { detail: { n: [{ numeric: ['>', 0] }] } }, withDetail({ n: '5' }), false],
  ['numeric: all fields must hold (documented example)', { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }], 'd-count': [{ numeric: ['<', 10] }], 'x-limit': [{ numeric: ['=', 3.018e2] }] } }, withDetail({ 'c-count': 3, 'd-count': 20, 'x-limit': 301.8 }), false],
  // IP address (cidr)
  ['cidr IPv4 inside', { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } }, withDetail({ sourceIPAddress: '10.0.0.255' }), true],
  ['cidr IPv4 outside', { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } }, withDetail({ sourceIPAddress: '10.0.1.1' }), false],
  ['cidr IPv6 inside', { detail: { sourceIPAddress: [{ cidr: 'bcde:6789:1234::/64' }] } }, withDetail({ sourceIPAddress: 'bcde:6789:1234:0:1:2:3:4' }), true],
  ['cidr IPv6 outside', { detail: { sourceIPAddress: [{ cidr: 'bcde:6789:1234::/64' }] } }, withDetail({ sourceIPAddress: 'bcde:6789:1235::1' }), false],
  ['cidr IPv4 address vs IPv6 range', { detail: { ip: [{ cidr: '::/0' }] } }, withDetail({ ip: '10.0.0.1' }), false],
  ['cidr on a non-IP string', { detail: { ip: [{ cidr: '10.0.0.0/8' }] } }, withDetail({ ip: 'localhost' }), false],
  // Exists
  ['exists true', { detail: { state: [{ exists: true }] } }, ec2, true],
  ['exists true, field absent', { detail: { state: [{ exists: true }] } }, withDetail({ 'c-count': { c1: 100 } }), false],
  ['exists false, field absent', { detail: { state: [{ exists: false }] } }, withDetail({ 'c-count': { c1: 100 } }), true],
  ['exists false, field present', { detail: { state: [{ exists: false }] } }, ec2, false],
  ['exists only on leaves: an object value has no leaf', { detail: { 'c-count': [{ exists: true }] } }, withDetail({ 'c-count': { c1: 100 } }), false],
  ['exists true on null value', { detail: { r: [{ exists: true }] } }, withDetail({ r: null }), true],
  ['exists true on an empty array', { detail: { r: [{ exists: true }] } }, withDetail({ r: [] }), false],
  ['exists false on an empty array', { detail: { r: [{ exists: false }] } }, withDetail({ r: [] }), true],
  ['exists false under a missing parent', { detail: { a: { b: [{ exists: false }] } } }, withDetail({}), true],
  ['exists true on a non-empty array', { detail: { r: [{ exists: true }] } }, withDetail({ r: ['x'] }), true],
  // equals-ignore-case
  ['equals-ignore-case', { 'detail-type': [{ 'equals-ignore-case': 'ec2 instance state-change notification' }] }, ec2, true],
  ['equals-ignore-case different text', { 'detail-type': [{ 'equals-ignore-case': 'ec2 instance' }] }, ec2, false],
  // Wildcard
  ['wildcard suffix form', { detail: { FileName: [{ wildcard: '*.png' }] } }, withDetail({ FileName: 'dir/file.png' }), true],
  ['wildcard dir/*.png', { detail: { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] } }, withDetail({ EventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/default' }), true],
  ['wildcard middle', { detail: { Title: [{ wildcard: '*Title*' }] } }, withDetail({ Title: 'MyTitleHere' }), true],
  ['wildcard no match', { detail: { FileName: [{ wildcard: 'dir/*.png' }] } }, withDetail({ FileName: 'other/file.png' }), false],
  ['wildcard matches zero characters', { detail: { FileName: [{ wildcard: 'a*b' }] } }, withDetail({ FileName: 'ab' }), true],
  ['wildcard escaped star is literal', { detail: { s: [{ wildcard: 'a\\*b' }] } }, withDetail({ s: 'a*b' }), true],
  ['wildcard escaped star does not match other text', { detail: { s: [{ wildcard: 'a\\*b' }] } }, withDetail({ s: 'axb' }), false],
  ['wildcard escaped backslash', { detail: { s: [{ wildcard: 'a\\\\*' }] } }, withDetail({ s: 'a\\zz' }), true],
  // $or
  ['$or: one branch matches', { detail: { $or: [{ 'c-count': [{ numeric: ['>', 0, '<=', 5] }] }, { 'd-count': [{ numeric: ['<', 10] }] }] } }, withDetail({ 'c-count': 50, 'd-count': 1 }), true],
  ['$or: no branch matches', { detail: { $or: [{ 'c-count': [{ numeric: ['>', 0, '<=', 5] }] }, { 'd-count': [{ numeric: ['<', 10] }] }] } }, withDetail({ 'c-count': 50, 'd-count': 11 }), false],
  ['$or at top level across source and detail', { $or: [{ source: ['aws.s3'] }, { detail: { state: ['terminated'] } }] }, ec2, true],
  ['$or ANDed with sibling keys', { source: ['aws.s3'], $or: [{ region: ['us-west-1'] }, { account: ['1'] }] }, ec2, false],
  // Combined (documented complex example)
  ['complex example matches', { time: [{ prefix: '2017-10-02' }], detail: { state: [{ 'anything-but': 'initializing' }], 'c-count': [{ numeric: ['>', 0, '<=', 5] }], 'd-count': [{ numeric: ['<', 10] }], 'x-limit': [{ 'anything-but': [100, 200, 300] }] } }, withDetail({ state: 'running', 'c-count': 2, 'd-count': 3, 'x-limit': 50 }, { time: '2017-10-02T18:43:48Z' }), true],
  ['complex example: excluded x-limit', { time: [{ prefix: '2017-10-02' }], detail: { state: [{ 'anything-but': 'initializing' }], 'c-count': [{ numeric: ['>', 0, '<=', 5] }], 'd-count': [{ numeric: ['<', 10] }], 'x-limit': [{ 'anything-but': [100, 200, 300] }] } }, withDetail({ state: 'running', 'c-count': 2, 'd-count': 3, 'x-limit': 300 }, { time: '2017-10-02T18:43:48Z' }), false],
  ['mixed OR of exact value and operator', { detail: { state: ['pending', { prefix: 'term' }] } }, ec2, true],
  ['replay-name absent (archive managed rule)', { 'replay-name': [{ exists: false }] }, ec2, true],
  ['replay-name present (archive managed rule)', { 'replay-name': [{ exists: false }] }, { ...ec2, 'replay-name': 'r1' }, false],
];

describe('event pattern matching (documented cases)', () => {
  it.each(cases)('%s', (_name, pattern, event, expected) => {
    expect(eventMatchesPattern(pattern, event)).toBe(expected);
  });

  it('accepts the pattern as JSON text', () => {
    expect(eventMatchesPattern('{"source":["aws.ec2"]}', ec2)).toBe(true);
  });
});

type Invalid = [name: string, pattern: unknown, reason: RegExp];

const invalid: Invalid[] = [
  ['not JSON', '{"source": [', /Filter is not valid JSON/],
  ['not an object', '["aws.ec2"]', /Filter is not an object/],
  ['leaf is a string', { source: 'aws.ec2' }, /"source" must be an object or an array/],
  ['nested leaf is a number', { detail: { n: 5 } }, /"detail.n" must be an object or an array/],
  ['empty array', { source: [] }, /Empty arrays are not allowed/],
  ['unknown operator', { source: [{ 'begins-with': 'aws.' }] }, /Unrecognized match type begins-with/],
  ['two keys in one match expression', { source: [{ prefix: 'a', suffix: 'b' }] }, /Only one key allowed/],
  ['array inside a leaf', { source: [['a']] }, /Match value must be String, number, true, false, or null/],
  ['numeric with a string bound', { n: [{ numeric: ['>', '5'] }] }, /Value of > must be numeric/],
  ['numeric equals with a string', { n: [{ numeric: ['=', 'x'] }] }, /Value of equals must be numeric/],
  ['numeric unknown operator', { n: [{ numeric: ['!=', 5] }] }, /Unrecognized numeric range operator/],
  ['numeric not an array', { n: [{ numeric: 5 }] }, /Value of numeric must be an array/],
  ['numeric range upside down', { n: [{ numeric: ['>', 10, '<', 5] }] }, /Bottom must be less than top/],
  ['numeric range with an upper bound first', { n: [{ numeric: ['<', 10, '>', 5] }] }, /Too many elements/],
  ['numeric range second op not upper', { n: [{ numeric: ['>', 1, '>', 5] }] }, /Bad numeric range operator/],
  ['exists not boolean', { n: [{ exists: 'yes' }] }, /exists match pattern must be either true or false/],
  ['prefix not a string', { n: [{ prefix: 5 }] }, /prefix match pattern must be a string/],
  ['prefix with an unknown inner operator', { n: [{ prefix: { wildcard: 'a*' } }] }, /Unsupported prefix pattern: wildcard/],
  ['anything-but with unknown inner operator', { n: [{ 'anything-but': { numeric: ['>', 1] } }] }, /Unsupported anything-but pattern: numeric/],
  ['anything-but mixed list', { n: [{ 'anything-but': ['a', 1] }] }, /anything-but list/],
  ['anything-but boolean', { n: [{ 'anything-but': true }] }, /Value of anything-but must be/],
  ['anything-but empty prefix', { n: [{ 'anything-but': { prefix: '' } }] }, /Null prefix\/suffix not allowed/],
  ['wildcard consecutive stars', { n: [{ wildcard: 'a**b' }] }, /Consecutive wildcard characters at pos 2/],
  ['wildcard invalid escape', { n: [{ wildcard: 'a\\b' }] }, /Invalid escape character/],
  ['cidr without mask', { ip: [{ cidr: '10.0.0.0' }] }, /one '\/' required/],
  ['cidr bad mask', { ip: [{ cidr: '10.0.0.0/x' }] }, /mask bits must be an integer/],
  ['cidr bad address', { ip: [{ cidr: '10.0.0.300/24' }] }, /Nonstandard IP address: 10.0.0.300/],
  ['cidr mask too wide', { ip: [{ cidr: '10.0.0.0/33' }] }, /mask bits must be ≤ 32/],
  ['$or not an array', { $or: { source: ['a'] } }, /"\$or" must be a non-empty array of objects/],
  ['equals-ignore-case not a string', { n: [{ 'equals-ignore-case': 5 }] }, /equals-ignore-case match pattern must be a string/],
];

describe('event pattern validation', () => {
  it.each(invalid)('rejects %s', (_name, pattern, reason) => {
    expect(() => compilePattern(pattern as string | object)).toThrow(
      expect.objectContaining({ code: 'InvalidEventPatternException', message: expect.stringMatching(reason) as unknown }),
    );
  });
});

describe('parseIp', () => {
  it.each([
    ['10.0.0.1', 32, 0x0a000001n],
    ['::1', 128, 1n],
    ['::ffff:10.0.0.1', 128, 0xffff0a000001n],
    ['2001:db8::', 128, 0x20010db8n << 96n],
  ] as const)('parses %s', (text, bits, value) => {
    expect(parseIp(text)).toEqual({ bits, value });
  });

  it.each(['1.2.3', '1::2::3', 'g::1', '256.1.1.1', '1:2:3:4:5:6:7:8:9'])('rejects %s', (text) => {
    expect(parseIp(text)).toBeUndefined();
  });
});
