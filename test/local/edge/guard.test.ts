/**
 * The request guard: what a browser page can forge is refused, what SDKs and the AWS CLI send passes.
 */
import { normalizeOrigin, RequestGuard } from '../../../local/edge/guard';

const guard = new RequestGuard({ host: '127.0.0.1', port: 4566, allowedOrigins: ['http://localhost:3000/'] });
const at = (path = '/') => new URL(path, 'http://edge');

describe('RequestGuard', () => {
  it('passes SDK-style requests: loopback Host, no Origin, no Sec-Fetch headers', () => {
    expect(guard.check('POST', { host: '127.0.0.1:4566', 'content-type': 'application/x-www-form-urlencoded' }, at())).toEqual({ kind: 'pass' });
    expect(guard.check('POST', { host: 'localhost:4566' }, at())).toEqual({ kind: 'pass' });
    expect(guard.check('GET', { host: 'imagegen-images.localhost:4566' }, at('/images/x.png'))).toEqual({ kind: 'pass' });
    expect(guard.check('GET', {}, at())).toEqual({ kind: 'pass' });
  });

  it('refuses a Host that is not this server (DNS rebinding) or not its port', () => {
    expect(guard.check('GET', { host: 'rebind.evil.example:4566' }, at()).kind).toBe('refuse');
    expect(guard.check('GET', { host: '127.0.0.1:8080' }, at()).kind).toBe('refuse');
    expect(guard.check('GET', { host: '127.0.0.1' }, at()).kind).toBe('refuse');
    expect(guard.check('GET', { host: '10.0.0.5:4566' }, at()).kind).toBe('refuse');
  });

  it('accepts any IP literal as Host only when bound to all interfaces', () => {
    const wide = new RequestGuard({ host: '0.0.0.0', port: 4566 });
    expect(wide.check('GET', { host: '10.0.0.5:4566' }, at()).kind).toBe('pass');
    expect(wide.check('GET', { host: 'evil.example:4566' }, at()).kind).toBe('refuse');
  });

  it('refuses an Origin that is neither its own nor allowed, and passes those with CORS', () => {
    expect(guard.check('POST', { host: '127.0.0.1:4566', origin: 'http://evil.example' }, at()).kind).toBe('refuse');
    expect(guard.check('POST', { host: '127.0.0.1:4566', origin: 'null' }, at()).kind).toBe('refuse');
    expect(guard.check('POST', { host: '127.0.0.1:4566', origin: 'http://127.0.0.1:4567' }, at()).kind).toBe('refuse');
    expect(guard.check('POST', { host: '127.0.0.1:4566', origin: 'http://127.0.0.1:4566' }, at())).toEqual({ kind: 'pass', corsOrigin: 'http://127.0.0.1:4566' });
    expect(guard.check('POST', { host: '127.0.0.1:4566', origin: 'http://localhost:3000' }, at())).toEqual({ kind: 'pass', corsOrigin: 'http://localhost:3000' });
  });

  it('answers CORS preflights only for allowed origins', () => {
    const preflight = (origin: string) => guard.check('OPTIONS', { host: '127.0.0.1:4566', origin, 'access-control-request-method': 'POST' }, at());
    expect(preflight('http://localhost:3000')).toEqual({ kind: 'preflight', origin: 'http://localhost:3000' });
    expect(preflight('http://evil.example').kind).toBe('refuse');
    expect(guard.preflightHeaders('http://localhost:3000', { 'access-control-request-headers': 'x-amz-target, content-type' })).toMatchObject({
      'access-control-allow-origin': 'http://localhost:3000',
      'access-control-allow-headers': 'x-amz-target, content-type',
    });
  });

  it('lets a cross-site request without Origin read, but not write or call a Query action in its URL', () => {
    const site = { host: '127.0.0.1:4566', 'sec-fetch-site': 'cross-site' };
    expect(guard.check('GET', site, at('/imagegen-images/images/k/original.png')).kind).toBe('pass');
    expect(guard.check('GET', site, at('/?Action=Publish&Version=2010-03-31&TopicArn=t&Message=m')).kind).toBe('refuse');
    expect(guard.check('POST', site, at()).kind).toBe('refuse');
    expect(guard.check('GET', { host: '127.0.0.1:4566', 'sec-fetch-site': 'same-origin' }, at('/?Action=ListTopics&Version=2010-03-31')).kind).toBe('pass');
    // Browsers that send no Sec-Fetch-Site still name the page in Referer.
    expect(guard.check('GET', { host: '127.0.0.1:4566', referer: 'http://evil.example/page' }, at('/?Action=Publish')).kind).toBe('refuse');
  });

  it('normalizes configured origins and rejects what is not one', () => {
    expect(normalizeOrigin('HTTP://LocalHost:3000/')).toBe('http://localhost:3000');
    expect(() => normalizeOrigin('localhost:3000/app')).toThrow(/not an origin/);
    expect(() => normalizeOrigin('http://localhost:3000/app')).toThrow(/no path/);
  });
});
