/**
 * @module
 * Builds the broker's frozen `BrokerConfig` from, in rising precedence: the defaults, an optional JSON config
 * file, `FRESHET_*` environment variables and command-line flags. One table (`FLAGS`) declares every
 * setting once; parsing, environment names, config-file names and `--help` all come from it.
 *
 * - Flags: `--http-port 8080` or `--http-port=8080`; booleans also as a bare `--auto-create-topics`,
 *   `--no-auto-create-topics` or `--auto-create-topics=false`. A flag given twice takes the last value.
 *   Anything that is not a known flag is an error (there are no positional arguments).
 * - Environment: `FRESHET_` + the flag in upper snake case (`FRESHET_HTTP_PORT`). An empty variable counts as
 *   unset (compose files often pass `FRESHET_HOST=`). Any other `FRESHET_*` variable is an error, because a
 *   misspelt one would otherwise be ignored silently; the few that belong to others (`FRESHET_URL` of the
 *   CLI, `FRESHET_BENCH_*`, `FRESHET_TEST_*`, ...: `FOREIGN_ENV`) are left alone.
 * - Config file: `--config <file>` or `FRESHET_CONFIG`, relative to the working directory. JSON shaped like
 *   `BrokerConfig` (camelCase names), topic defaults nested under `logDefaults`:
 *   `{"httpPort": 9092, "workers": 4, "logDefaults": {"segmentBytes": 536870912, "flushPolicy": "always"}}`.
 *   Values may be JSON numbers/booleans or strings written as on the command line. Unknown names are errors.
 * - `dataDir` is resolved to an absolute path against the working directory.
 *
 * Every value is checked, all problems are gathered, and one `ConfigError` lists them, each naming the flag,
 * where the value came from, the value and what is allowed.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { type BrokerConfig, DEFAULT_BROKER_CONFIG } from './broker-config.ts';
import { LOG_CONFIG_NAMES, type LogConfig } from './log-config.ts';
import {
  booleanValue,
  enumValue,
  INT32_MAX,
  intValue,
  invalidValueMessage,
  LOG_SETTINGS,
  type RawValue,
  showRaw,
  textValue,
  type ValueSpec,
} from './topic-config.ts';

/** A setting that cannot be used; `problems` has one line per mistake found (the message joins them). */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type BrokerKey = Exclude<keyof BrokerConfig, 'logDefaults'>;

/** One setting: its flag (without `--`), where its value goes, how it is read and what it means. */
export interface FlagDef {
  flag: string;
  target: { key: BrokerKey } | { logKey: keyof LogConfig };
  spec: ValueSpec<unknown>;
  help: string;
}

/**
 * The IPC ring's size limit (`RING_MAX_CAPACITY` in src/ipc/ring.ts, which config may not import; a test
 * keeps the two equal). A produce request is queued whole, so requests are capped by it too.
 */
const MAX_RING_BYTES = 2 ** 30;
/** `MAX_PARTITIONS_PER_TOPIC` of the topic registry (src/coordinator, not importable here; a test checks). */
const MAX_PARTITIONS = 10_000;
/** setTimeout's longest delay; the broker's timers take these settings directly. */
const MAX_TIMER_MS = INT32_MAX;

/** The one boolean parser: flags using it may be given bare (`--auto-create-topics`) or negated (`--no-...`). */
const BOOLEAN: ValueSpec<unknown> = booleanValue();

/**
 * `--etcd`: comma-separated `http://host:port` or `https://host:port` URLs with an explicit port and without
 * a path, query or credentials (etcd's gRPC endpoints are bare addresses). Duplicates are dropped; the order
 * is kept.
 */
function etcdEndpointsValue(): ValueSpec<unknown> {
  return {
    expected: 'a list of etcd URLs (http[s]://host:port, comma-separated)',
    placeholder: '<url,...>',
    parse(raw) {
      if (typeof raw !== 'string') return undefined;
      const endpoints: string[] = [];
      for (const part of raw.split(',')) {
        const text = part.trim();
        let url: URL;
        try {
          url = new URL(text);
        } catch {
          return undefined;
        }
        // An explicit port, and nothing after it but an optional slash.
        const bare =
          /^https?:\/\/[^/?#@]+:\d+\/?$/i.test(text) &&
          url.hostname !== '' &&
          url.pathname === '/' &&
          url.search === '' &&
          url.hash === '';
        if (!bare) return undefined;
        const endpoint = `${url.protocol}//${url.host}`;
        if (!endpoints.includes(endpoint)) endpoints.push(endpoint);
      }
      return Object.freeze(endpoints);
    },
    format: (value) => (value === null ? 'none' : (value as readonly string[]).join(',')),
  };
}

function broker(flag: string, key: BrokerKey, spec: ValueSpec<unknown>, help: string): FlagDef {
  return { flag, target: { key }, spec, help };
}

const BROKER_FLAGS: FlagDef[] = [
  broker(
    'data-dir',
    'dataDir',
    textValue('a directory path', '<dir>'),
    'where partition logs and metadata live (relative paths: from the working directory)',
  ),
  broker(
    'host',
    'host',
    textValue('a host name or IP address (no spaces)', '<host>', /^\S+$/),
    'address the listeners bind to (0.0.0.0 or :: for every interface)',
  ),
  broker(
    'http-port',
    'httpPort',
    intValue(0, 65535, 'count', { expected: 'a port number (0-65535)', placeholder: '<port>' }),
    "the HTTP API's port; 0 picks a free one",
  ),
  broker(
    'kafka-port',
    'kafkaPort',
    intValue(-1, 65535, 'count', {
      expected: 'a port number (0-65535), or -1 for no Kafka listener',
      placeholder: '<port>',
    }),
    "the Kafka protocol's port; 0 picks a free one, -1 turns the Kafka listener off",
  ),
  broker(
    'kafka-advertised-host',
    'kafkaAdvertisedHost',
    textValue('a host name or IP address (no spaces)', '<host>', /^\S+$/),
    "the host Metadata tells Kafka clients to connect to (Kafka's advertised.listeners)",
  ),
  broker(
    'kafka-advertised-port',
    'kafkaAdvertisedPort',
    intValue(1, 65535, 'count', { expected: 'a port number (1-65535)', placeholder: '<port>' }),
    'the port Metadata tells Kafka clients to connect to (behind a proxy or a port mapping)',
  ),
  broker('workers', 'workers', intValue(1, 1024, 'count'), 'partition worker threads'),
  broker(
    'default-partitions',
    'defaultPartitions',
    intValue(1, MAX_PARTITIONS, 'count'),
    'partitions of a topic created without a count, and of auto-created topics',
  ),
  broker(
    'auto-create-topics',
    'autoCreateTopics',
    BOOLEAN,
    "create unknown topics on produce (Kafka's auto.create.topics.enable)",
  ),
  broker(
    'max-request-bytes',
    'maxRequestBytes',
    intValue(1, MAX_RING_BYTES, 'bytes'),
    'the largest request accepted: an HTTP request body, or a Kafka request frame',
  ),
  broker(
    'max-in-flight-bytes',
    'maxInFlightBytes',
    intValue(1, MAX_RING_BYTES, 'bytes'),
    "produce bytes queued to one worker (its ring's size) before the broker answers with back-pressure; at least --max-request-bytes",
  ),
  broker(
    'retention-check-interval-ms',
    'retentionCheckIntervalMs',
    intValue(1, MAX_TIMER_MS, 'ms'),
    "how often retention runs (Kafka's log.retention.check.interval.ms)",
  ),
  broker(
    'max-wait-ms',
    'maxFetchWaitMs',
    intValue(0, MAX_TIMER_MS, 'ms'),
    'the longest a long-polled fetch may wait',
  ),
  broker(
    'group-min-session-timeout-ms',
    'groupMinSessionTimeoutMs',
    intValue(1, MAX_TIMER_MS, 'ms'),
    "the shortest session timeout a group member may ask for (Kafka's group.min.session.timeout.ms)",
  ),
  broker(
    'group-max-session-timeout-ms',
    'groupMaxSessionTimeoutMs',
    intValue(1, 3_600_000, 'ms'),
    'the longest session timeout, and rebalance timeout, a group member may ask for',
  ),
  broker(
    'group-initial-rebalance-delay-ms',
    'groupInitialRebalanceDelayMs',
    intValue(0, MAX_TIMER_MS, 'ms'),
    "how long the first rebalance of an empty group waits for more members (Kafka's group.initial.rebalance.delay.ms)",
  ),
  broker(
    'group-max-size',
    'groupMaxSize',
    intValue(1, 1_000_000, 'count'),
    'members one consumer group may have',
  ),
  broker(
    'offsets-retention-minutes',
    'offsetsRetentionMinutes',
    intValue(1, 1_000_000_000, 'count'),
    'committed offsets of a group that stayed empty this many minutes expire',
  ),
  broker(
    'offsets-retention-check-interval-ms',
    'offsetsRetentionCheckIntervalMs',
    intValue(1, MAX_TIMER_MS, 'ms'),
    'how often expired committed offsets are looked for',
  ),
  broker(
    'offset-metadata-max-bytes',
    'offsetMetadataMaxBytes',
    intValue(0, 1_048_576, 'bytes'),
    'the longest metadata string kept with a committed offset',
  ),
  broker(
    'node-id',
    'nodeId',
    intValue(0, INT32_MAX, 'count'),
    "this broker's id in its cluster (Kafka's node.id), unique per cluster; also the node id of its Kafka door",
  ),
  broker(
    'etcd',
    'etcdEndpoints',
    etcdEndpointsValue(),
    'the etcd endpoints holding the cluster metadata; unset: a single-node broker, needing nothing else',
  ),
  broker(
    'cluster',
    'cluster',
    textValue(
      'a cluster name of 1 to 64 letters, digits, dots, dashes or underscores',
      '<name>',
      /^[A-Za-z0-9._-]{1,64}$/,
    ),
    "the cluster's name: its keys in etcd live under /freshet/<name>/ (needs --etcd)",
  ),
  broker(
    'broker-rack',
    'brokerRack',
    textValue('a rack name (no spaces)', '<rack>', /^\S{1,255}$/),
    "where this broker stands (Kafka's broker.rack), shown in the cluster status (needs --etcd)",
  ),
  broker(
    'etcd-lease-ttl-seconds',
    'etcdLeaseTtlSeconds',
    intValue(2, 3600, 'count', { expected: 'an integer from 2 to 3600 (seconds)', placeholder: '<seconds>' }),
    'a broker that stops renewing its etcd lease leaves the cluster (and a controller is replaced) this long ' +
      'after its last renewal (needs --etcd)',
  ),
  broker(
    'default-replication-factor',
    'defaultReplicationFactor',
    intValue(1, 64, 'count'),
    "replicas of a topic created without a factor, in a cluster (Kafka's default.replication.factor)",
  ),
  broker(
    'replica-lag-time-max-ms',
    'replicaLagTimeMaxMs',
    intValue(100, MAX_TIMER_MS, 'ms'),
    'a follower that has not caught up with its leader for this long leaves the ISR (needs --etcd)',
  ),
  broker(
    'replica-ack-timeout-ms',
    'replicaAckTimeoutMs',
    intValue(100, MAX_TIMER_MS, 'ms'),
    'the longest an acks=all produce waits for the in-sync replicas before REQUEST_TIMED_OUT (needs --etcd)',
  ),
  broker(
    'leader-imbalance-check-interval-ms',
    'leaderImbalanceCheckIntervalMs',
    intValue(0, MAX_TIMER_MS, 'ms'),
    'how often partitions go back to their preferred leader when it is in sync; 0 never (needs --etcd)',
  ),
  broker(
    'log-level',
    'logLevel',
    enumValue(['debug', 'info', 'warn', 'error'] as const),
    'the least severe log level written',
  ),
];

/** Topic defaults: one flag per Kafka-named topic setting (`segment.bytes` → `--segment-bytes`). */
const LOG_FLAGS: FlagDef[] = LOG_SETTINGS.map((s) => ({
  flag: s.name.replace(/\./g, '-'),
  target: { logKey: s.key },
  spec: s.spec,
  help: s.help,
}));

/** Every setting, in help order. */
export const FLAGS: readonly FlagDef[] = Object.freeze([...BROKER_FLAGS, ...LOG_FLAGS]);

/** `--config` is not a setting: it says where more settings are. */
const CONFIG_FLAG = 'config';
const ENV_PREFIX = 'FRESHET_';
/**
 * `FRESHET_*` variables that belong to others and are left alone: the CLI's broker address (a shell that runs
 * both `freshet broker` and `freshet produce` has it set), the test suite's Python, and the benchmarks' and
 * tests' own families.
 */
const FOREIGN_ENV = new Set(['FRESHET_URL', 'FRESHET_PYTHON']);
const FOREIGN_ENV_PREFIXES = ['FRESHET_BENCH_', 'FRESHET_TEST_'];

export function envName(flag: string): string {
  return ENV_PREFIX + flag.toUpperCase().replace(/-/g, '_');
}

/** The name in the config file: `httpPort`, or `logDefaults.segmentBytes`. */
export function fileKey(def: FlagDef): string {
  return 'key' in def.target ? def.target.key : `logDefaults.${def.target.logKey}`;
}

const BY_FLAG: ReadonlyMap<string, FlagDef> = new Map(FLAGS.map((d) => [d.flag, d]));
const BY_ENV: ReadonlyMap<string, FlagDef> = new Map(FLAGS.map((d) => [envName(d.flag), d]));

/** Options for `loadConfig`. */
export interface LoadConfigOptions {
  /** What relative paths (`--config`, `--data-dir`) are relative to; default `process.cwd()`. */
  cwd?: string;
}

/** A value found for a setting, and where: for messages and precedence. */
interface Found {
  def: FlagDef;
  raw: RawValue;
  /** `--http-port`, `FRESHET_HTTP_PORT`, `httpPort in /etc/freshet.json`. */
  source: string;
}

/**
 * Reads the configuration. `argv` are the arguments after the command (`process.argv.slice(2)`), `env` the
 * environment (`process.env`). `--help` is not handled here: callers check for it first and print
 * `configHelp()`. Throws `ConfigError` listing every problem; returns a deep-frozen config.
 */
export function loadConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  options: LoadConfigOptions = {},
): Readonly<BrokerConfig> {
  const cwd = options.cwd ?? process.cwd();
  const problems: string[] = [];
  const flags = parseArgv(argv, problems);
  const fromEnv = readEnv(env, problems);

  const configPath = flags.configPath ?? fromEnv.configPath;
  const fromFile = configPath
    ? readConfigFile(path.resolve(cwd, configPath.value), configPath.source, problems)
    : [];

  const values: Record<string, unknown> = { ...DEFAULT_BROKER_CONFIG, workers: availableParallelism() };
  const logValues: Record<string, unknown> = { ...DEFAULT_BROKER_CONFIG.logDefaults };
  /** Where each setting's winning value came from, for cross-setting messages. */
  const origin = new Map<FlagDef, string>();
  // Later sources override earlier ones; a bad value is reported even when a later source overrides it.
  for (const found of [...fromFile, ...fromEnv.found, ...flags.found]) {
    const value = found.def.spec.parse(found.raw);
    if (value === undefined) {
      problems.push(invalidValueMessage(describeSource(found), found.raw, found.def.spec));
      continue;
    }
    const target = found.def.target;
    if ('key' in target) values[target.key] = value;
    else logValues[target.logKey] = value;
    origin.set(found.def, describeSource(found));
  }
  values.dataDir = path.resolve(cwd, values.dataDir as string);
  values.logDefaults = Object.freeze(logValues);
  const config = values as unknown as BrokerConfig;

  if (config.maxInFlightBytes < config.maxRequestBytes) {
    const inFlight = BY_FLAG.get('max-in-flight-bytes')!;
    const request = BY_FLAG.get('max-request-bytes')!;
    problems.push(
      `${origin.get(inFlight) ?? '--max-in-flight-bytes'}: ${config.maxInFlightBytes} is less than ` +
        `--max-request-bytes (${config.maxRequestBytes}${origin.has(request) ? '' : ', the default'}); ` +
        'a produce request that large could never be queued to a worker',
    );
  }
  if (config.groupMinSessionTimeoutMs > config.groupMaxSessionTimeoutMs) {
    problems.push(
      `--group-min-session-timeout-ms (${config.groupMinSessionTimeoutMs}) is more than ` +
        `--group-max-session-timeout-ms (${config.groupMaxSessionTimeoutMs}): no session timeout would be allowed`,
    );
  }
  if (config.etcdEndpoints === null) {
    // A cluster setting without a cluster would be ignored silently; --node-id alone is fine (the Kafka door's id).
    const clusterOnly = [
      'cluster',
      'broker-rack',
      'etcd-lease-ttl-seconds',
      'default-replication-factor',
      'replica-lag-time-max-ms',
      'replica-ack-timeout-ms',
      'leader-imbalance-check-interval-ms',
    ].map((flag) => BY_FLAG.get(flag)!);
    for (const def of clusterOnly) {
      const where = origin.get(def);
      if (where !== undefined) {
        problems.push(`${where}: only means something in a cluster, and --etcd is not set`);
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

/** `--http-port`, or `--http-port (from FRESHET_HTTP_PORT)` when the value came from elsewhere. */
function describeSource(found: Found): string {
  const flag = `--${found.def.flag}`;
  return found.source === flag ? flag : `${flag} (from ${found.source})`;
}

interface ParsedArgv {
  found: Found[];
  configPath?: { value: string; source: string };
}

function parseArgv(argv: readonly string[], problems: string[]): ParsedArgv {
  const parsed: ParsedArgv = { found: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--') || arg === '--') {
      problems.push(`unexpected argument ${showRaw(arg)}: every setting is a --flag (see --help)`);
      continue;
    }
    const eq = arg.indexOf('=');
    let name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    let inline: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    let def = BY_FLAG.get(name);
    // `--no-<boolean>`: false, with no value of its own.
    if (!def && name.startsWith('no-') && inline === undefined) {
      const negated = BY_FLAG.get(name.slice(3));
      if (negated && isBoolean(negated)) {
        def = negated;
        name = negated.flag;
        inline = 'false';
      }
    }
    if (!def && name !== CONFIG_FLAG) {
      const positive = name.startsWith('no-') ? BY_FLAG.get(name.slice(3)) : undefined;
      problems.push(
        positive
          ? `unknown flag --${name}: --${positive.flag} takes a value and cannot be negated`
          : `unknown flag --${name}${suggest(name, [...BY_FLAG.keys(), CONFIG_FLAG], '--')} (see --help)`,
      );
      // Skip its value too, so it is not reported again as an unexpected argument.
      if (inline === undefined && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) i++;
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (def && isBoolean(def)) {
        // A bare boolean flag means true; a following true/false/1/0 is taken as its value.
        if (next !== undefined && def.spec.parse(next) !== undefined) {
          value = next;
          i++;
        } else {
          value = 'true';
        }
      } else if (next === undefined || next.startsWith('--')) {
        const placeholder = def ? def.spec.placeholder : '<file>';
        problems.push(`--${name}: missing value (${placeholder})`);
        continue;
      } else {
        value = next;
        i++;
      }
    }
    if (!def && value.trim() === '') problems.push(`--${CONFIG_FLAG}: missing value (<file>)`);
    else if (!def) parsed.configPath = { value, source: `--${CONFIG_FLAG}` };
    else parsed.found.push({ def, raw: value, source: `--${name}` });
  }
  return parsed;
}

function isBoolean(def: FlagDef): boolean {
  return def.spec === BOOLEAN;
}

function readEnv(
  env: Readonly<Record<string, string | undefined>>,
  problems: string[],
): { found: Found[]; configPath?: { value: string; source: string } } {
  const found: Found[] = [];
  let configPath: { value: string; source: string } | undefined;
  const configEnv = envName(CONFIG_FLAG);
  // Sorted, so messages come out in the same order whatever the environment's order.
  for (const name of Object.keys(env).sort()) {
    const raw = env[name];
    if (!name.startsWith(ENV_PREFIX) || raw === undefined || raw === '') continue;
    if (FOREIGN_ENV.has(name) || FOREIGN_ENV_PREFIXES.some((prefix) => name.startsWith(prefix))) continue;
    if (name === configEnv) {
      configPath = { value: raw, source: configEnv };
      continue;
    }
    const def = BY_ENV.get(name);
    if (def) found.push({ def, raw, source: name });
    else
      problems.push(
        `unknown environment variable ${name}${suggest(name, [...BY_ENV.keys(), configEnv], '')}`,
      );
  }
  return configPath ? { found, configPath } : { found };
}

function readConfigFile(file: string, source: string, problems: string[]): Found[] {
  const where = `${source} ${file}`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    problems.push(
      `${where}: cannot read the config file (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
    return [];
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    problems.push(`${where}: not valid JSON (${(err as Error).message})`);
    return [];
  }
  if (!isPlainObject(json)) {
    problems.push(`${where}: expected a JSON object of settings, like {"httpPort": 8080}`);
    return [];
  }
  const byKey = new Map(FLAGS.map((d) => [fileKey(d), d]));
  const found: Found[] = [];
  const take = (key: string, raw: unknown) => {
    const def = byKey.get(key);
    if (!def) {
      problems.push(
        `${where}: unknown setting '${key}'${suggest(key, [...byKey.keys(), 'logDefaults'], '')}`,
      );
    } else if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
      problems.push(invalidValueMessage(`--${def.flag} (from ${key} in ${file})`, raw, def.spec));
    } else {
      found.push({ def, raw, source: `${key} in ${file}` });
    }
  };
  for (const [key, raw] of Object.entries(json)) {
    if (key !== 'logDefaults') {
      take(key, raw);
    } else if (!isPlainObject(raw)) {
      problems.push(`${where}: logDefaults must be an object, like {"segmentBytes": 1073741824}`);
    } else {
      for (const [logKey, logRaw] of Object.entries(raw)) take(`logDefaults.${logKey}`, logRaw);
    }
  }
  return found;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** ` (did you mean --http-port?)` for a near miss (edit distance ≤ 2, or one is a prefix of the other). */
function suggest(name: string, known: readonly string[], prefix: string): string {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const c = candidate.toLowerCase();
    const d = c.startsWith(lower) || lower.startsWith(c) ? 1 : editDistance(lower, c);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best === undefined ? '' : ` (did you mean ${prefix}${best}?)`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** Help lines stay within this many columns (the meanings are wrapped; the rest is short). */
const HELP_WIDTH = 100;

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  return [...lines, line];
}

/** The default of a setting as `--help` shows it. */
function defaultText(def: FlagDef): string {
  if ('key' in def.target) {
    if (def.target.key === 'workers') return `one per core (${availableParallelism()} here)`;
    if (def.target.key === 'kafkaAdvertisedHost') return '--host (127.0.0.1 when that is 0.0.0.0 or ::)';
    if (def.target.key === 'kafkaAdvertisedPort') return 'the port the Kafka listener bound';
    if (def.target.key === 'etcdEndpoints') return 'none (a single node)';
    if (def.target.key === 'brokerRack') return 'none';
    return def.spec.format(DEFAULT_BROKER_CONFIG[def.target.key]);
  }
  return def.spec.format(DEFAULT_BROKER_CONFIG.logDefaults[def.target.logKey]);
}

/**
 * The settings part of `--help`: every flag with its value, meaning, environment variable, config-file name,
 * default and what is allowed.
 */
export function configHelp(): string {
  const lines = [
    'Settings come from, in rising precedence: defaults, the config file, FRESHET_* environment',
    'variables, flags.',
    '',
    `  --${CONFIG_FLAG} <file>`,
    '      a JSON file of settings by the "file" names below, topic defaults nested under logDefaults:',
    '      {"httpPort": 9092, "logDefaults": {"retentionMs": 86400000}}',
    `      env ${envName(CONFIG_FLAG)}`,
  ];
  const section = (title: string, defs: readonly FlagDef[]) => {
    lines.push('', title);
    for (const def of defs) {
      lines.push(
        `  --${def.flag} ${def.spec.placeholder}${'logKey' in def.target ? `   (topic config ${LOG_CONFIG_NAMES[def.target.logKey]})` : ''}`,
        ...wrap(def.help, HELP_WIDTH - 6).map((line) => `      ${line}`),
        `      default ${defaultText(def)}; ${def.spec.expected}`,
        `      env ${envName(def.flag)}, file ${fileKey(def)}`,
      );
    }
  };
  section('Broker:', BROKER_FLAGS);
  section(
    'Topic defaults (a topic overrides them with its own config by Kafka name, e.g. retention.ms):',
    LOG_FLAGS,
  );
  return lines.join('\n');
}
