/**
 * @module
 * Loading the broker config: defaults, the JSON config file, FRESHET_* variables and flags in that order
 * of precedence, the messages for every kind of mistake, freezing, and the help text.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_BROKER_CONFIG } from '../../src/config/broker-config.ts';
import {
  ConfigError,
  configHelp,
  envName,
  FLAGS,
  fileKey,
  type LoadConfigOptions,
  loadConfig,
} from '../../src/config/load-config.ts';
import { DEFAULT_LOG_CONFIG, LOG_CONFIG_NAMES } from '../../src/config/log-config.ts';
import { MAX_PARTITIONS_PER_TOPIC } from '../../src/coordinator/topic-registry.ts';
import { RING_MAX_CAPACITY } from '../../src/ipc/ring.ts';

const CWD = '/srv/freshet';
const load = (
  argv: string[],
  env: Record<string, string | undefined> = {},
  options: LoadConfigOptions = {},
) => loadConfig(argv, env, { cwd: CWD, ...options });

/** The ConfigError's problems, failing the test when loading succeeds. */
function problems(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const tempDirs: string[] = [];
afterEach(() => {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function configFile(content: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freshet-config-'));
  tempDirs.push(dir);
  const file = path.join(dir, 'freshet.json');
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('loadConfig: sources', () => {
  it('gives the defaults, one worker per core and an absolute data dir when nothing is set', () => {
    const config = load([]);
    expect(config).toEqual({
      ...DEFAULT_BROKER_CONFIG,
      dataDir: path.resolve(CWD, DEFAULT_BROKER_CONFIG.dataDir),
      workers: os.availableParallelism(),
    });
  });

  it('returns a deep-frozen config', () => {
    const config = load(['--segment-bytes', '1024']);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.logDefaults)).toBe(true);
    expect(() => {
      (config as { httpPort: number }).httpPort = 1;
    }).toThrow(TypeError);
  });

  it('reads every flag, in both --flag value and --flag=value forms', () => {
    const config = load([
      '--data-dir',
      'var/data',
      '--host=0.0.0.0',
      '--http-port',
      '0',
      '--kafka-port',
      '0',
      '--kafka-advertised-host',
      'kafka.example.com',
      '--kafka-advertised-port=19092',
      '--workers=3',
      '--default-partitions',
      '6',
      '--auto-create-topics=false',
      '--max-request-bytes',
      '1048576',
      '--max-in-flight-bytes',
      '2097152',
      '--retention-check-interval-ms',
      '1000',
      '--max-wait-ms',
      '500',
      '--log-level',
      'debug',
      '--group-min-session-timeout-ms',
      '500',
      '--group-max-session-timeout-ms=90000',
      '--group-initial-rebalance-delay-ms',
      '0',
      '--group-max-size',
      '50',
      '--offsets-retention-minutes',
      '60',
      '--offsets-retention-check-interval-ms',
      '5000',
      '--offset-metadata-max-bytes',
      '100',
      '--node-id',
      '7',
      '--etcd',
      'http://10.0.0.1:2379, https://etcd.example.com:2379/',
      '--cluster=prod-1',
      '--broker-rack',
      'eu-west-1a',
      '--etcd-lease-ttl-seconds',
      '10',
      '--default-replication-factor',
      '3',
      '--replica-lag-time-max-ms',
      '2000',
      '--replica-ack-timeout-ms',
      '4000',
      '--leader-imbalance-check-interval-ms',
      '0',
      '--min-insync-replicas',
      '2',
      '--unclean-leader-election-enable',
      'true',
      '--segment-bytes',
      '4096',
      '--segment-ms=60000',
      '--retention-ms',
      '-1',
      '--retention-bytes',
      '-1',
      '--flush-messages',
      '10',
      '--flush-ms',
      '100',
      '--flush-policy',
      'always',
      '--max-message-bytes',
      '65536',
      '--index-interval-bytes',
      '0',
    ]);
    expect(config).toEqual({
      dataDir: path.join(CWD, 'var/data'),
      host: '0.0.0.0',
      httpPort: 0,
      kafkaPort: 0,
      kafkaAdvertisedHost: 'kafka.example.com',
      kafkaAdvertisedPort: 19092,
      workers: 3,
      defaultPartitions: 6,
      autoCreateTopics: false,
      maxRequestBytes: 1048576,
      maxInFlightBytes: 2097152,
      retentionCheckIntervalMs: 1000,
      maxFetchWaitMs: 500,
      logLevel: 'debug',
      groupMinSessionTimeoutMs: 500,
      groupMaxSessionTimeoutMs: 90000,
      groupInitialRebalanceDelayMs: 0,
      groupMaxSize: 50,
      offsetsRetentionMinutes: 60,
      offsetsRetentionCheckIntervalMs: 5000,
      offsetMetadataMaxBytes: 100,
      nodeId: 7,
      etcdEndpoints: ['http://10.0.0.1:2379', 'https://etcd.example.com:2379'],
      cluster: 'prod-1',
      brokerRack: 'eu-west-1a',
      etcdLeaseTtlSeconds: 10,
      defaultReplicationFactor: 3,
      replicaLagTimeMaxMs: 2000,
      replicaAckTimeoutMs: 4000,
      leaderImbalanceCheckIntervalMs: 0,
      logDefaults: {
        segmentBytes: 4096,
        segmentMs: 60000,
        retentionMs: -1,
        retentionBytes: -1,
        flushMessages: 10,
        flushMs: 100,
        flushPolicy: 'always',
        maxMessageBytes: 65536,
        indexIntervalBytes: 0,
        minInsyncReplicas: 2,
        uncleanLeaderElectionEnable: true,
      },
    });
  });

  it('reads booleans bare, negated, with = and with a following true/false', () => {
    expect(load(['--auto-create-topics']).autoCreateTopics).toBe(true);
    expect(load(['--no-auto-create-topics']).autoCreateTopics).toBe(false);
    expect(load(['--auto-create-topics=0']).autoCreateTopics).toBe(false);
    expect(load(['--auto-create-topics', 'false', '--workers', '2'])).toMatchObject({
      autoCreateTopics: false,
      workers: 2,
    });
    expect(load(['--auto-create-topics', '--workers', '2'])).toMatchObject({
      autoCreateTopics: true,
      workers: 2,
    });
  });

  it('reads FRESHET_* variables, treating empty ones as unset', () => {
    const config = load([], {
      FRESHET_DATA_DIR: '/data',
      FRESHET_HTTP_PORT: '9000',
      FRESHET_HOST: '',
      FRESHET_WORKERS: '2',
      FRESHET_DEFAULT_PARTITIONS: '3',
      FRESHET_AUTO_CREATE_TOPICS: 'FALSE',
      FRESHET_RETENTION_MS: '1000',
      FRESHET_FLUSH_POLICY: 'always',
      PATH: '/bin',
    });
    expect(config).toMatchObject({
      dataDir: '/data',
      httpPort: 9000,
      host: DEFAULT_BROKER_CONFIG.host,
      workers: 2,
      defaultPartitions: 3,
      autoCreateTopics: false,
    });
    expect(config.logDefaults).toMatchObject({ retentionMs: 1000, flushPolicy: 'always' });
  });

  it('reads a JSON config file by --config or FRESHET_CONFIG, relative to the working directory', () => {
    const file = configFile({
      httpPort: 9092,
      workers: '4',
      autoCreateTopics: false,
      logDefaults: { segmentBytes: 536870912, flushPolicy: 'always' },
    });
    const byFlag = load(['--config', file]);
    expect(byFlag).toMatchObject({ httpPort: 9092, workers: 4, autoCreateTopics: false });
    expect(byFlag.logDefaults).toEqual({
      ...DEFAULT_LOG_CONFIG,
      segmentBytes: 536870912,
      flushPolicy: 'always',
    });
    const byEnv = load([], { FRESHET_CONFIG: path.basename(file) }, { cwd: path.dirname(file) });
    expect({ ...byEnv, dataDir: '' }).toEqual({ ...byFlag, dataDir: '' });
  });

  it('ranks flags over variables over the file over the defaults, setting by setting', () => {
    const file = configFile({ httpPort: 1, workers: 1, host: 'file-host', logDefaults: { flushMs: 1 } });
    const config = load(['--config', file, '--http-port', '3'], {
      FRESHET_HTTP_PORT: '2',
      FRESHET_WORKERS: '2',
    });
    expect(config).toMatchObject({ httpPort: 3, workers: 2, host: 'file-host' });
    expect(config.logDefaults.flushMs).toBe(1);
    expect(config.logDefaults.flushPolicy).toBe(DEFAULT_LOG_CONFIG.flushPolicy);
  });

  it('prefers --config over FRESHET_CONFIG, and takes the last of a repeated flag', () => {
    const a = configFile({ httpPort: 1 });
    const b = configFile({ httpPort: 2 });
    expect(load(['--config', a], { FRESHET_CONFIG: b }).httpPort).toBe(1);
    expect(load(['--http-port', '5', '--http-port=6']).httpPort).toBe(6);
  });

  it('leaves the FRESHET_* variables of the CLI, the benchmarks and the tests alone', () => {
    const env = {
      FRESHET_URL: 'http://x',
      FRESHET_PYTHON: 'python3',
      FRESHET_BENCH_DIR: '/tmp',
      FRESHET_TEST_E2E: '1',
    };
    expect(() => load([], env)).not.toThrow();
  });
});

describe('loadConfig: mistakes', () => {
  it("names the flag, the value and what is allowed: --http-port: 'abc' is not a port number (0-65535)", () => {
    expect(problems(() => load(['--http-port', 'abc']))).toEqual([
      "--http-port: 'abc' is not a port number (0-65535)",
    ]);
    expect(problems(() => load(['--http-port=65536']))).toEqual([
      "--http-port: '65536' is not a port number (0-65535)",
    ]);
  });

  it('says where a bad value came from when it was not a flag', () => {
    expect(problems(() => load([], { FRESHET_WORKERS: '0' }))).toEqual([
      "--workers (from FRESHET_WORKERS): '0' is not an integer from 1 to 1024",
    ]);
    const file = configFile({ logDefaults: { segmentBytes: 10 } });
    expect(problems(() => load(['--config', file]))).toEqual([
      `--segment-bytes (from logDefaults.segmentBytes in ${file}): 10 is not an integer from 14 to 2147483647 (bytes)`,
    ]);
  });

  it('rejects a bad value for every setting', () => {
    const bad: Record<string, string> = {
      'data-dir': ' ',
      host: 'two words',
      'http-port': '-1',
      'kafka-port': '-2',
      'kafka-advertised-host': 'two words',
      'kafka-advertised-port': '0',
      workers: '1.5',
      'default-partitions': '0',
      'auto-create-topics': 'yes please',
      'max-request-bytes': '0',
      'max-in-flight-bytes': String(RING_MAX_CAPACITY + 1),
      'retention-check-interval-ms': '0',
      'max-wait-ms': '2147483648',
      'log-level': 'verbose',
      'group-min-session-timeout-ms': '0',
      'group-max-session-timeout-ms': '3600001',
      'group-initial-rebalance-delay-ms': '-1',
      'group-max-size': '0',
      'offsets-retention-minutes': '0',
      'offsets-retention-check-interval-ms': '0',
      'offset-metadata-max-bytes': '1048577',
      'node-id': '-1',
      etcd: 'ftp://127.0.0.1:2379',
      cluster: 'a/b',
      'broker-rack': 'two words',
      'etcd-lease-ttl-seconds': '1',
      'default-replication-factor': '0',
      'replica-lag-time-max-ms': '99',
      'replica-ack-timeout-ms': 'soon',
      'leader-imbalance-check-interval-ms': '-1',
      'min-insync-replicas': '0',
      'unclean-leader-election-enable': 'maybe',
      'segment-bytes': '13',
      'segment-ms': '0',
      'retention-ms': '-2',
      'retention-bytes': '-2',
      'flush-messages': '0',
      'flush-ms': '-1',
      'flush-policy': 'never',
      'max-message-bytes': '-1',
      'index-interval-bytes': 'lots',
    };
    expect(Object.keys(bad).sort()).toEqual(FLAGS.map((f) => f.flag).sort());
    for (const [flag, value] of Object.entries(bad)) {
      const found = problems(() => load([`--${flag}=${value}`]));
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(new RegExp(`^--${flag}: '${escapeRegExp(value)}' is not `));
    }
  });

  it('rejects unknown flags, suggesting the near miss, and stray arguments', () => {
    expect(problems(() => load(['--http-prot', '80']))).toEqual([
      'unknown flag --http-prot (did you mean --http-port?) (see --help)',
    ]);
    expect(problems(() => load(['--frobnicate']))).toEqual(['unknown flag --frobnicate (see --help)']);
    expect(problems(() => load(['--no-host']))).toEqual([
      'unknown flag --no-host: --host takes a value and cannot be negated',
    ]);
    expect(problems(() => load(['serve']))).toEqual([
      "unexpected argument 'serve': every setting is a --flag (see --help)",
    ]);
    expect(problems(() => load(['-p', '80']))[0]).toMatch(/unexpected argument '-p'/);
  });

  it('reports a flag without its value', () => {
    expect(problems(() => load(['--http-port']))).toEqual(['--http-port: missing value (<port>)']);
    expect(problems(() => load(['--data-dir', '--workers', '2']))).toEqual([
      '--data-dir: missing value (<dir>)',
    ]);
    expect(problems(() => load(['--config']))).toEqual(['--config: missing value (<file>)']);
  });

  it('rejects unknown FRESHET_* variables, suggesting the near miss', () => {
    expect(problems(() => load([], { FRESHET_HTTP_PROT: '80' }))).toEqual([
      'unknown environment variable FRESHET_HTTP_PROT (did you mean FRESHET_HTTP_PORT?)',
    ]);
  });

  it('reports config file problems with the file name', () => {
    const missing = path.join(os.tmpdir(), 'freshet-no-such-config.json');
    expect(problems(() => load(['--config', missing]))).toEqual([
      `--config ${missing}: cannot read the config file (ENOENT)`,
    ]);
    const broken = configFile('{"httpPort": ');
    expect(problems(() => load([], { FRESHET_CONFIG: broken }))[0]).toMatch(
      new RegExp(`^FRESHET_CONFIG ${broken}: not valid JSON`),
    );
    const list = configFile([1, 2]);
    expect(problems(() => load(['--config', list]))[0]).toContain('expected a JSON object of settings');
    const unknown = configFile({ httpport: 1, logDefaults: { 'segment.bytes': 1 }, nested: { a: 1 } });
    expect(problems(() => load(['--config', unknown]))).toEqual([
      `--config ${unknown}: unknown setting 'httpport' (did you mean httpPort?)`,
      `--config ${unknown}: unknown setting 'logDefaults.segment.bytes' (did you mean logDefaults.segmentBytes?)`,
      `--config ${unknown}: unknown setting 'nested'`,
    ]);
    const wrongTypes = configFile({ workers: [2], logDefaults: 5 });
    expect(problems(() => load(['--config', wrongTypes]))).toEqual([
      `--workers (from workers in ${wrongTypes}): [2] is not an integer from 1 to 1024`,
      `--config ${wrongTypes}: logDefaults must be an object, like {"segmentBytes": 1073741824}`,
    ]);
  });

  it('takes -1 for no Kafka listener, and leaves the advertised address unset by default', () => {
    expect(load(['--kafka-port=-1']).kafkaPort).toBe(-1);
    expect(load([])).toMatchObject({ kafkaPort: 9092, kafkaAdvertisedHost: null, kafkaAdvertisedPort: null });
    expect(problems(() => load(['--kafka-port', '65536']))).toEqual([
      "--kafka-port: '65536' is not a port number (0-65535), or -1 for no Kafka listener",
    ]);
    expect(load([], { FRESHET_KAFKA_ADVERTISED_HOST: 'broker-1' }).kafkaAdvertisedHost).toBe('broker-1');
  });

  it('reads the cluster settings, and is a single node without --etcd', () => {
    expect(load([])).toMatchObject({
      nodeId: 0,
      etcdEndpoints: null,
      cluster: 'freshet',
      brokerRack: null,
      etcdLeaseTtlSeconds: 5,
    });
    const config = load([], {
      FRESHET_ETCD: 'http://a:2379,http://b:2379,http://a:2379',
      FRESHET_NODE_ID: '2',
    });
    expect(config).toMatchObject({ etcdEndpoints: ['http://a:2379', 'http://b:2379'], nodeId: 2 });
    expect(Object.isFrozen(config.etcdEndpoints)).toBe(true);
    // --node-id alone is allowed: it is also the Kafka door's node id.
    expect(load(['--node-id', '3'])).toMatchObject({ nodeId: 3, etcdEndpoints: null });
    expect(load(['--etcd', 'http://[::1]:2379']).etcdEndpoints).toEqual(['http://[::1]:2379']);
  });

  it('refuses an etcd address that is not a bare http(s)://host:port, naming the flag', () => {
    for (const bad of [
      'localhost:2379',
      'http://127.0.0.1',
      'http://127.0.0.1:2379/v3',
      'http://user:secret@127.0.0.1:2379',
      'http://127.0.0.1:2379,',
      'http://127.0.0.1:2379?x=1',
      'http://a:1,b:2',
    ]) {
      expect(problems(() => load(['--etcd', bad]))).toEqual([
        `--etcd: '${bad}' is not a list of etcd URLs (http[s]://host:port, comma-separated)`,
      ]);
    }
    expect(problems(() => load([], { FRESHET_ETCD: 'etcd:2379' }))).toEqual([
      "--etcd (from FRESHET_ETCD): 'etcd:2379' is not a list of etcd URLs (http[s]://host:port, comma-separated)",
    ]);
  });

  it('refuses cluster settings without --etcd, which would be ignored', () => {
    expect(
      problems(() =>
        load([
          '--cluster',
          'c1',
          '--broker-rack',
          'r1',
          '--etcd-lease-ttl-seconds',
          '9',
          '--default-replication-factor',
          '3',
        ]),
      ),
    ).toEqual([
      '--cluster: only means something in a cluster, and --etcd is not set',
      '--broker-rack: only means something in a cluster, and --etcd is not set',
      '--etcd-lease-ttl-seconds: only means something in a cluster, and --etcd is not set',
      '--default-replication-factor: only means something in a cluster, and --etcd is not set',
    ]);
    expect(load(['--cluster', 'c1', '--broker-rack', 'r1', '--etcd', 'http://127.0.0.1:2379'])).toMatchObject(
      { cluster: 'c1', brokerRack: 'r1' },
    );
    expect(problems(() => load(['--etcd', 'http://127.0.0.1:2379', '--cluster', 'a b']))).toEqual([
      "--cluster: 'a b' is not a cluster name of 1 to 64 letters, digits, dots, dashes or underscores",
    ]);
  });

  it('checks that a request of the largest size can be queued to a worker', () => {
    expect(problems(() => load(['--max-in-flight-bytes', '1048576']))).toEqual([
      '--max-in-flight-bytes: 1048576 is less than --max-request-bytes (67108864, the default); ' +
        'a produce request that large could never be queued to a worker',
    ]);
    expect(
      load(['--max-in-flight-bytes', '1048576', '--max-request-bytes', '1048576']).maxInFlightBytes,
    ).toBe(1048576);
  });

  it('lists every problem at once, even a bad value that a later source overrides', () => {
    const found = problems(() =>
      load(['--workers', 'x', '--bogus', '--http-port', '1'], { FRESHET_HTTP_PORT: 'y' }),
    );
    expect(found).toEqual([
      'unknown flag --bogus (see --help)',
      "--http-port (from FRESHET_HTTP_PORT): 'y' is not a port number (0-65535)",
      "--workers: 'x' is not an integer from 1 to 1024",
    ]);
    expect(new ConfigError(found).message).toBe(found.join('\n'));
  });

  it('keeps its limits equal to the ring’s and the topic registry’s', () => {
    expect(load([`--max-in-flight-bytes=${RING_MAX_CAPACITY}`]).maxInFlightBytes).toBe(RING_MAX_CAPACITY);
    expect(problems(() => load([`--max-request-bytes=${RING_MAX_CAPACITY + 1}`]))).toHaveLength(1);
    expect(load([`--default-partitions=${MAX_PARTITIONS_PER_TOPIC}`]).defaultPartitions).toBe(
      MAX_PARTITIONS_PER_TOPIC,
    );
    expect(problems(() => load([`--default-partitions=${MAX_PARTITIONS_PER_TOPIC + 1}`]))).toHaveLength(1);
  });
});

describe('configHelp', () => {
  const help = configHelp();

  it('lists every flag with its variable, file name, default and allowed values', () => {
    for (const def of FLAGS) {
      expect(help).toMatch(
        new RegExp(
          `  --${def.flag} ${escapeRegExp(def.spec.placeholder)}( .*)?\n      ${escapeRegExp(def.help.slice(0, 40))}`,
        ),
      );
      expect(help).toContain(`      env ${envName(def.flag)}, file ${fileKey(def)}`);
      expect(help).toMatch(new RegExp(`default [^\\n]*; ${escapeRegExp(def.spec.expected)}`));
    }
    expect(help).toContain('--config <file>');
    expect(help).toContain('env FRESHET_CONFIG');
  });

  it('shows defaults readably', () => {
    expect(help).toContain('default 1073741824 (1 GiB)');
    expect(help).toMatch(/--flush-ms <ms> .*\n.*\n {6}default never;/);
    expect(help).toContain(`default one per core (${os.availableParallelism()} here)`);
    expect(help).toMatch(/--kafka-advertised-host <host>\n.*\n {6}default --host \(127\.0\.0\.1 when/);
    expect(help).toMatch(/--max-wait-ms <ms>\n.*\n {6}default 30000 \(30 s\);/);
  });

  it('derives topic-default flags from the Kafka names', () => {
    for (const name of Object.values(LOG_CONFIG_NAMES)) {
      expect(help).toMatch(
        new RegExp(
          `--${name.replace(/\./g, '-')} (<[a-z|]+>|\\[true\\|false\\]) +\\(topic config ${escapeRegExp(name)}\\)\n`,
        ),
      );
    }
  });

  it('keeps its lines within 100 columns', () => {
    const long = help.split('\n').filter((line) => line.length > 100);
    expect(long).toEqual([]);
  });
});
