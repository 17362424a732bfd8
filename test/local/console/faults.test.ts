/**
 * The console's fault-injection panel reads `GET /_imagegen/chaos/faults` (`{ seed?, rules }`):
 * a cloud without fault injection answers 404, one with no rules an empty list — both are "off".
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFaults } from '../../../local/console/faults';
import { faultsSection } from '../../../local/console/pages/faults-page';

describe('readFaults', () => {
  let server: Server;
  let url: string;
  let answer: { status: number; body: string } = { status: 404, body: '' };

  beforeAll(async () => {
    server = createServer((req, res) => {
      res.writeHead(req.url === '/_imagegen/chaos/faults' ? answer.status : 500, { 'content-type': 'application/json' });
      res.end(answer.body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('is off when the cloud has no fault injection (404)', async () => {
    answer = { status: 404, body: '{"message":"not found"}' };
    await expect(readFaults(url)).resolves.toEqual({ state: 'off' });
  });

  it('is off when the rule list is empty', async () => {
    answer = { status: 200, body: '{"seed":7,"rules":[]}' };
    await expect(readFaults(url)).resolves.toEqual({ state: 'off' });
    expect(faultsSection({ state: 'off' })).toMatch(/fault injection off/);
  });

  it('lists the active rules in the recovery issue\'s format', async () => {
    const rules = [
      { service: 's3', operation: 'GetObject', probability: 0.02, error: { statusCode: 500, code: 'InternalError' } },
      { service: 'sns', action: 'drop', probability: 0.05 },
      { service: 'lambda', function: 'imagegen-complete', action: 'crash', probability: 0.05 },
    ];
    answer = { status: 200, body: JSON.stringify({ seed: 7, rules }) };
    const view = await readFaults(url);
    expect(view).toEqual({ state: 'on', seed: 7, rules });
    const html = faultsSection(view);
    expect(html).toMatch(/3 active rules, seed 7/);
    expect(html).toMatch(/GetObject.*500 InternalError/s);
    expect(html).toMatch(/sns.*drop.*0\.05/s);
    expect(html).toMatch(/<td>lambda<\/td><td><\/td><td>function imagegen-complete<\/td><td>crash<\/td>/);
  });

  it('says what is wrong with an answer it cannot read', async () => {
    answer = { status: 200, body: '{"faults":[]}' };
    await expect(readFaults(url)).resolves.toEqual({ state: 'unknown', reason: '/_imagegen/chaos/faults did not answer { rules: [...] }' });
  });
});
