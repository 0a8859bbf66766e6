/**
 * @module
 * `bun test/cluster/fault-check.ts --seconds 90 [--seed N] [--producers N] [--debug] [--keep]` (`npm run chaos`): the
 * replication fault checker of test/cluster/fault-injection.test.ts as a command, for longer runs than CI
 * affords. Prints the faults as they happen and the counts at the end; exits 1 on any violation (the work
 * dir with every broker's log is then kept and named; `--keep` keeps it anyway), 2 on bad arguments.
 * `--debug` runs the brokers with `--log-level debug`.
 */
import { runFaultCheck } from './fault-checker.ts';
import { formatReport } from './fault-verify.ts';

const USAGE =
  'usage: bun test/cluster/fault-check.ts [--seconds 90] [--seed N] [--producers 4] [--debug] [--keep]';

interface Options {
  seconds: number;
  seed: number;
  producers: number;
  debug: boolean;
  keep: boolean;
}

function parseArgs(argv: string[]): Options {
  const options = { seconds: 90, seed: Date.now() % 2_147_483_647, producers: 4, debug: false, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--debug' || arg === '--keep') {
      options[arg === '--debug' ? 'debug' : 'keep'] = true;
      continue;
    }
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    const name = arg.replace(/^--/, '');
    const value = Number(argv[++i]);
    if (!['seconds', 'seed', 'producers'].includes(name) || !Number.isSafeInteger(value) || value < 0) {
      console.error(`bad argument '${arg} ${argv[i] ?? ''}'\n${USAGE}`);
      process.exit(2);
    }
    options[name as 'seconds' | 'seed' | 'producers'] = value;
  }
  if (options.seconds < 1 || options.producers < 1) {
    console.error(`--seconds and --producers must be at least 1\n${USAGE}`);
    process.exit(2);
  }
  return options;
}

const options = parseArgs(process.argv.slice(2));
const report = await runFaultCheck({
  seconds: options.seconds,
  seed: options.seed,
  producers: options.producers,
  brokerArgs: options.debug ? ['--log-level', 'debug'] : [],
  keep: options.keep,
});
console.log(formatReport(report));
process.exit(report.violations.length === 0 ? 0 : 1);
