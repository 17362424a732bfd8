import { createServer } from 'node:net';

/** A TCP port free on `host` right now: the operating system picks it, and it is released at once. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error(`no port free on ${host}`))));
    });
  });
}
