#!/usr/bin/env bun
/**
 * @module
 * The `freshet` command: `topics create|list|describe|delete|alter`, `produce`, `consume`, `offsets`,
 * `groups list|describe|reset-offsets|delete`, `cluster status`, and `broker` (which hands over to
 * `runBroker` of src/main.ts, loaded only then). `main()` takes argv and io and returns the exit status, so
 * tests can run it in-process; run as a program with `bun src/cli/main.ts`.
 * Exit status: 0 success, 1 the broker (or the network) refused, 2 bad usage.
 */
import { fstatSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { FreshetError, HttpClient } from '../client/index.ts';
import { clusterStatus } from './cluster.ts';
import { type Command, commandHelp, GLOBAL_OPTIONS } from './command.ts';
import { consume } from './consume.ts';
import { groupsDelete, groupsDescribe, groupsList, groupsResetOffsets } from './groups.ts';
import { type CliIo, UsageError, write } from './io.ts';
import { partitionsReassign } from './partitions.ts';
import { produce } from './produce.ts';
import { offsets, topicsAlter, topicsCreate, topicsDelete, topicsDescribe, topicsList } from './topics.ts';

export type { CliIo, CliOutput } from './io.ts';

const DEFAULT_URL = 'http://127.0.0.1:8080';

const COMMANDS: Command[] = [
  topicsCreate,
  topicsList,
  topicsDescribe,
  topicsDelete,
  topicsAlter,
  produce,
  consume,
  offsets,
  groupsList,
  groupsDescribe,
  groupsResetOffsets,
  groupsDelete,
  partitionsReassign,
  clusterStatus,
];

/** Commands that take an action word: `freshet topics create`, `freshet cluster status`, ... */
const FAMILIES = ['topics', 'groups', 'partitions', 'cluster'] as const;

function isFamily(word: string | undefined): word is (typeof FAMILIES)[number] {
  return (FAMILIES as readonly string[]).includes(word ?? '');
}

export interface MainDeps {
  /** Starts the broker (`freshet broker [flags]`); default: `runBroker` of src/main.ts, imported on use. */
  runBroker?: (argv: string[]) => Promise<void>;
}

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length), 'broker'.length);
  const rows = [
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    `  ${'broker'.padEnd(width)}  Run the broker (freshet broker --help lists its flags).`,
  ];
  return [
    'Usage: freshet <command> [flags]',
    '',
    'Commands:',
    ...rows,
    '',
    'Global flags:',
    '  --url <url>  broker HTTP address, or several comma-separated (brokers of a cluster)',
    '               (default $FRESHET_URL, else http://127.0.0.1:8080)',
    '  --json       machine-readable output',
    '  -h, --help   help for freshet or for a command',
    '',
    "Run 'freshet <command> --help' for a command's flags.",
    '',
  ].join('\n');
}

/** The actions of `freshet topics`, `freshet groups` or `freshet cluster`. */
function familyHelp(family: (typeof FAMILIES)[number]): string {
  const members = COMMANDS.filter((c) => c.name.startsWith(`${family} `));
  const width = Math.max(...members.map((c) => c.name.length));
  const actions = members.map((c) => c.name.slice(family.length + 1)).join('|');
  return [
    `Usage: freshet ${family} <${actions}> [flags]`,
    '',
    ...members.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    `Run 'freshet ${family} <action> --help' for its flags.`,
    '',
  ].join('\n');
}

/** `freshet help [command]`: the same text as `--help`. */
async function helpCommand(topic: string[], io: CliIo): Promise<number> {
  const name = topic.join(' ');
  const command = COMMANDS.find((c) => c.name === name);
  if (command !== undefined) await write(io.stdout, commandHelp(command));
  else if (isFamily(name)) await write(io.stdout, familyHelp(name));
  else if (name === '') await write(io.stdout, mainHelp());
  else {
    await write(io.stderr, `freshet: unknown command '${name}'\n\n${mainHelp()}`);
    return 2;
  }
  return 0;
}

/** Leading words of argv that are not flags (skipping --url's value): the command and its arguments. */
function words(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    if (arg === '--url') i++;
    else if (!arg.startsWith('-')) out.push(arg);
  }
  return out;
}

function findCommand(argv: string[]): { command: Command; rest: string[] } | { unknown: string } | null {
  const [first, second] = words(argv);
  if (first === undefined) return null;
  const name = isFamily(first) ? `${first} ${second ?? ''}`.trim() : first;
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) return { unknown: name };
  const skip = new Set(name.split(' '));
  const rest: string[] = [];
  for (const arg of argv) {
    // Drop the first occurrence of each command word; everything else goes to parseArgs.
    if (skip.has(arg)) skip.delete(arg);
    else rest.push(arg);
  }
  return { command, rest };
}

/** Runs one `freshet` invocation; resolves to the exit status. Never calls process.exit. */
export async function main(argv: string[], io: CliIo, deps: MainDeps = {}): Promise<number> {
  if (argv[0] === 'broker') return runBrokerCommand(argv.slice(1), io, deps);
  const found = findCommand(argv);
  if (found === null) {
    const help = argv.includes('--help') || argv.includes('-h');
    await write(help ? io.stdout : io.stderr, mainHelp());
    return help ? 0 : 2;
  }
  if ('unknown' in found) {
    const help = argv.includes('--help') || argv.includes('-h');
    if (found.unknown === 'help') return helpCommand(words(argv).slice(1), io);
    if (isFamily(found.unknown)) {
      await write(help ? io.stdout : io.stderr, familyHelp(found.unknown));
      return help ? 0 : 2;
    }
    await write(io.stderr, `freshet: unknown command '${found.unknown}'\n\n${mainHelp()}`);
    return 2;
  }
  const { command, rest } = found;
  let values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      options: { ...command.options, ...GLOBAL_OPTIONS },
      allowPositionals: true,
      strict: true,
    }));
  } catch (err) {
    return usage(io, command, (err as Error).message);
  }
  if (values.help === true) {
    await write(io.stdout, commandHelp(command));
    return 0;
  }
  const [min, max] =
    typeof command.positionals === 'number'
      ? [command.positionals, command.positionals]
      : command.positionals;
  if (positionals.length < min || positionals.length > max) {
    const message =
      positionals.length < min
        ? `missing argument: ${command.args}`
        : `unexpected argument '${positionals[max]}'`;
    return usage(io, command, message);
  }
  const json = values.json === true;
  const url = (values.url as string | undefined) ?? (io.env.FRESHET_URL || DEFAULT_URL);
  let http: HttpClient;
  try {
    http = new HttpClient({ bootstrap: brokerUrls(url) });
  } catch (err) {
    return usage(io, command, (err as Error).message);
  }
  try {
    return await command.run({ io, url, json, http }, values, positionals);
  } catch (err) {
    if (err instanceof UsageError) return usage(io, command, err.message);
    return report(io, json, url, err);
  }
}

/**
 * `--url` as a list: a comma-separated list names several brokers of a cluster, asked in turn until one
 * answers (the client then finds the rest, and each partition's leader, itself).
 */
export function brokerUrls(value: string): string[] {
  const urls = value
    .split(',')
    .map((url) => url.trim())
    .filter((url) => url !== '');
  if (urls.length === 0) throw new UsageError(`--url takes one or more broker URLs, got '${value}'`);
  return urls;
}

async function usage(io: CliIo, command: Command, message: string): Promise<number> {
  await write(io.stderr, `freshet ${command.name}: ${message}\n\n${commandHelp(command)}`);
  return 2;
}

async function report(io: CliIo, json: boolean, url: string, err: unknown): Promise<number> {
  const error =
    err instanceof FreshetError
      ? err
      : new FreshetError('UNKNOWN_SERVER_ERROR', err instanceof Error ? err.message : String(err));
  if (json) {
    await write(io.stderr, `${JSON.stringify({ error: { code: error.code, message: error.message } })}\n`);
  } else {
    const hint =
      error.code === 'NETWORK_EXCEPTION' ? ` (is a broker running at ${url}? set --url or FRESHET_URL)` : '';
    await write(io.stderr, `freshet: ${error.code}: ${error.message}${hint}\n`);
  }
  return 1;
}

async function runBrokerCommand(argv: string[], io: CliIo, deps: MainDeps): Promise<number> {
  let runBroker = deps.runBroker;
  if (runBroker === undefined) {
    try {
      ({ runBroker } = await import('../main.ts'));
    } catch (err) {
      await write(
        io.stderr,
        `freshet broker: the broker is not part of this build (src/main.ts could not be loaded: ${(err as Error).message})\n`,
      );
      return 1;
    }
  }
  await runBroker(argv);
  return 0;
}

/** The process entry: real stdin/stdout/stderr/env, SIGINT/SIGTERM as an abort signal, exit with main's status. */
export async function runProcess(argv: string[] = process.argv.slice(2)): Promise<void> {
  let stdinSize: number | undefined;
  try {
    const stat = fstatSync(0);
    if (stat.isFile()) stdinSize = stat.size;
  } catch {
    // No stdin (closed descriptor): nothing to size.
  }
  const controller = new AbortController();
  const onSignal = () => {
    // A second Ctrl-C ends the process at once.
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  // produce and consume stop cleanly on the first Ctrl-C (see io.signal); other commands are short and keep
  // the default (exit at once), and the broker installs its own handlers for a graceful shutdown.
  const [command] = words(argv);
  if (command === 'produce' || command === 'consume') {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  // `freshet consume | head` closes our stdout early: that is a normal end, not a crash.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const status = await main(argv, {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    stdinSize,
    signal: controller.signal,
  });
  // Wait for stdout to flush before exiting (a pipe may still hold the tail of the output).
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(status);
}

if (import.meta.main) await runProcess();
