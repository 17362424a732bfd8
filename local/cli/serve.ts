/** `imagegen serve`: the local cloud, long-running, until SIGINT/SIGTERM. */
import { parseArgs } from 'node:util';
import { LocalCloud, DEFAULT_PORT } from '../cloud';
import { cloudOptions, cloudOptionSpec, cloudOptionHelp, withFaultsFile } from './options';

const HELP = `usage: imagegen serve [options]

Runs the local cloud until Ctrl-C. The "ready" line names its URL and the operator console's
(http://127.0.0.1:4566/_imagegen/console/ by default).

${cloudOptionHelp}`;

export async function runServe(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({ args: [...argv], options: { ...cloudOptionSpec, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const started = Date.now();
  const cloud = await withFaultsFile(values.faults, () =>
    LocalCloud.start({
      ...cloudOptions(values, DEFAULT_PORT),
      log: (line) => process.stderr.write(`${line}\n`),
    }),
  );
  process.stdout.write(
    `imagegen local cloud ready on ${cloud.url} in ${Date.now() - started} ms (region ${cloud.partition.region}, account ${cloud.partition.account}, data ${cloud.dataDir}); console ${cloud.consoleUrl}\n` +
      `  point clients at it: AWS_ENDPOINT_URL=${cloud.url} AWS_REGION=${cloud.partition.region} AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local\n`,
  );
  await untilInterrupted();
  process.stdout.write('shutting down…\n');
  await cloud.close();
  return 0;
}

/** Resolves on Ctrl-C (SIGINT) or SIGTERM. */
export function untilInterrupted(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}
