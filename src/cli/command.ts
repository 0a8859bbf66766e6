/**
 * @module
 * The shape of a `freshet` subcommand: its flags (for `node:util` parseArgs), help text and run function,
 * and the context each run gets (io, broker URL, --json, a shared HttpClient).
 */
import type { ParseArgsOptionsConfig } from 'node:util';
import type { HttpClient } from '../client/index.ts';
import type { CliIo } from './io.ts';

export interface CommandContext {
  io: CliIo;
  /** --url as given: one broker URL, or several comma-separated. */
  url: string;
  json: boolean;
  http: HttpClient;
}

export type FlagValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

export interface Command {
  /** `topics create`, `produce`, ... */
  name: string;
  summary: string;
  /** Arguments after the name, for the usage line: `<topic>`. */
  args: string;
  /** Text after the flag list: defaults, examples. */
  details?: string;
  options: ParseArgsOptionsConfig;
  /** Help text per flag, by flag name. */
  flagHelp: Record<string, string>;
  /** Exact positional count, or [min, max]. */
  positionals: number | [number, number];
  run(ctx: CommandContext, values: FlagValues, positionals: string[]): Promise<number>;
}

export const GLOBAL_OPTIONS = {
  url: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsOptionsConfig;

export const GLOBAL_FLAG_HELP: Record<string, string> = {
  url: 'broker HTTP address, or several comma-separated (default $FRESHET_URL, else http://127.0.0.1:8080)',
  json: 'machine-readable output: JSON (one object per line for record streams)',
  help: 'show this help',
};

/** The usage text of one command, flags included. */
export function commandHelp(command: Command): string {
  const lines = [
    `Usage: freshet ${command.name}${command.args ? ` ${command.args}` : ''} [flags]`,
    '',
    command.summary,
  ];
  const flags = { ...command.flagHelp, ...GLOBAL_FLAG_HELP };
  const all: ParseArgsOptionsConfig = { ...command.options, ...GLOBAL_OPTIONS };
  const entries = Object.keys(flags).map((name) => {
    const spec = all[name];
    const short = spec?.short ? `-${spec.short}, ` : '';
    const placeholder = name === 'config' ? 'key=value' : name === 'delete-config' ? 'key' : 'value';
    const value = spec?.type === 'string' ? ` <${placeholder}>` : '';
    return [`  ${short}--${name}${value}`, flags[name]!] as const;
  });
  const width = Math.max(...entries.map(([flag]) => flag.length));
  lines.push('', 'Flags:', ...entries.map(([flag, text]) => `${flag.padEnd(width)}  ${text}`));
  if (command.details) lines.push('', command.details.trimEnd());
  return `${lines.join('\n')}\n`;
}
