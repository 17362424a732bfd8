/**
 * `imagegen` command line: `start` (one-shot offline campaign run), `serve` (the local cloud until
 * Ctrl-C), `simulate` (scaling policies against a traffic trace), `cost` (orchestration cost model).
 */
import { runCost } from './cost';
import { runServe } from './serve';
import { runSimulate } from './simulate';
import { runStart } from './start';

const USAGE = `usage: imagegen <command> [options]

commands:
  start      boot the local cloud, send a campaign batch, write images and a gallery under out/
  serve      run the local cloud on 127.0.0.1:4566 until Ctrl-C; operator console at
             http://127.0.0.1:4566/_imagegen/console/
  simulate   run a scaling policy against a traffic trace: latency, SLO attainment, cost
  cost       orchestration cost per request path, from the ASL and the topology

Run "imagegen <command> --help" for a command's options.`;

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return runStart(rest);
    case 'serve':
      return runServe(rest);
    case 'simulate':
      return runSimulate(rest);
    case 'cost':
      return runCost(rest);
    case undefined:
    case '-h':
    case '--help':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`imagegen: unknown command "${command}"\n\n${USAGE}\n`);
      return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`imagegen: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
