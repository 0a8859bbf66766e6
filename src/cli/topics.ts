/**
 * @module
 * `freshet topics create|list|describe|delete|alter` and `freshet offsets`: Admin calls with a table for
 * people and the API's own JSON for scripts (`--json`).
 */
import { Admin, type OffsetSpec, type TopicConfigChanges, type TopicDescription } from '../client/index.ts';
import type { Command, CommandContext, FlagValues } from './command.ts';
import { configFlags, integerFlag, jsonLine, table, UsageError, write } from './io.ts';

/** Two quick retries: enough for a broker that is restarting, short enough to report a dead one at once. */
function admin(ctx: CommandContext): Admin {
  return new Admin({ http: ctx.http, retries: 2 });
}

/** Node ids as `1,2,3`; `-` for none. */
export function nodeList(nodes: number[] | undefined): string {
  return nodes === undefined || nodes.length === 0 ? '-' : nodes.join(',');
}

/** A leader's node id, `none` while no leader is elected. */
export function leaderText(leader: number | undefined): string {
  return leader === undefined ? '-' : leader < 0 ? 'none' : String(leader);
}

/** The partition table; LEADER, REPLICAS and ISR only when the broker is in a cluster (it says who leads). */
export function describeText(topic: TopicDescription, withConfig: boolean): string {
  let text = `Topic: ${topic.name}  Partitions: ${topic.partitions.length}\n`;
  const replicated = topic.partitions.some((p) => p.leader !== undefined);
  const header = ['PARTITION', 'LOG-START-OFFSET', 'HIGH-WATERMARK', 'RECORDS', 'WORKER'];
  if (replicated) header.push('LEADER', 'REPLICAS', 'ISR');
  text += table(
    header,
    topic.partitions.map((p) => {
      const row: Array<string | number> = [
        p.partition,
        p.logStartOffset,
        p.highWatermark,
        p.highWatermark - p.logStartOffset,
        p.worker,
      ];
      if (replicated) row.push(leaderText(p.leader), nodeList(p.replicas), nodeList(p.isr));
      return row;
    }),
  );
  if (withConfig) {
    const entries = Object.entries(topic.config).sort(([a], [b]) => a.localeCompare(b));
    if (entries.length > 0) text += `Config:\n${entries.map(([k, v]) => `  ${k}=${v}`).join('\n')}\n`;
  }
  return text;
}

export const topicsCreate: Command = {
  name: 'topics create',
  args: '<topic>',
  summary: 'Create a topic.',
  options: {
    partitions: { type: 'string', short: 'p' },
    config: { type: 'string', short: 'c', multiple: true },
    'replication-factor': { type: 'string', short: 'r' },
  },
  flagHelp: {
    partitions: 'partition count (default: the broker --default-partitions)',
    config: 'a topic setting by its Kafka name, repeatable: --config retention.ms=86400000',
    'replication-factor':
      'replicas of each partition (default: the broker default; a broker without --etcd takes only 1)',
  },
  positionals: 1,
  async run(ctx, values, [name]) {
    const topic = await admin(ctx).createTopic(name!, {
      partitions: integerFlag('partitions', values.partitions as string | undefined, 1),
      config: configFlags(values.config as string[] | undefined),
      replicationFactor: integerFlag(
        'replication-factor',
        values['replication-factor'] as string | undefined,
        1,
      ),
    });
    const replicas = topic.partitions[0]?.replicas;
    const factor = replicas === undefined ? '' : `, replication factor ${replicas.length}`;
    await write(
      ctx.io.stdout,
      ctx.json
        ? jsonLine(topic)
        : `Created topic '${topic.name}' with ${topic.partitions.length} partitions${factor}\n`,
    );
    return 0;
  },
};

export const topicsList: Command = {
  name: 'topics list',
  args: '',
  summary: 'List the topics and their partition counts.',
  options: {},
  flagHelp: {},
  positionals: 0,
  async run(ctx) {
    const topics = await admin(ctx).listTopics();
    if (ctx.json) await write(ctx.io.stdout, jsonLine({ topics }));
    else if (topics.length === 0) await write(ctx.io.stdout, 'No topics\n');
    else {
      const sorted = [...topics].sort((a, b) => a.name.localeCompare(b.name));
      await write(
        ctx.io.stdout,
        table(
          ['TOPIC', 'PARTITIONS'],
          sorted.map((t) => [t.name, t.partitions]),
        ),
      );
    }
    return 0;
  },
};

export const topicsDescribe: Command = {
  name: 'topics describe',
  args: '<topic>',
  summary:
    "Show a topic's partitions (offsets, owning worker; leader and replicas in a cluster) and every setting.",
  options: {},
  flagHelp: {},
  positionals: 1,
  async run(ctx, _values, [name]) {
    const client = admin(ctx);
    // In a cluster, offsets as the leaders have them; a leader that does not answer leaves the broker's.
    const topic = await client.withLeaderOffsets(await client.describeTopic(name!), { bestEffort: true });
    await write(ctx.io.stdout, ctx.json ? jsonLine(topic) : describeText(topic, true));
    return 0;
  },
};

export const topicsDelete: Command = {
  name: 'topics delete',
  args: '<topic>',
  summary: 'Delete a topic and all its records.',
  options: {},
  flagHelp: {},
  positionals: 1,
  async run(ctx, _values, [name]) {
    await admin(ctx).deleteTopic(name!);
    await write(ctx.io.stdout, ctx.json ? jsonLine({ deleted: name }) : `Deleted topic '${name}'\n`);
    return 0;
  },
};

/** `--config` settings and `--delete-config` names (null: remove the override) as one change. */
function configChanges(
  set: Record<string, string> | undefined,
  remove: string[] | undefined,
): TopicConfigChanges | undefined {
  if (remove === undefined || remove.length === 0) return set;
  const changes: TopicConfigChanges = { ...set };
  for (const raw of remove) {
    const key = raw.trim();
    if (key === '' || key.includes('=')) {
      throw new UsageError(`--delete-config takes a setting name, got '${raw}'`);
    }
    if (set !== undefined && Object.hasOwn(set, key)) {
      throw new UsageError(`'${key}' is given to both --config and --delete-config`);
    }
    Object.defineProperty(changes, key, {
      value: null,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return changes;
}

export const topicsAlter: Command = {
  name: 'topics alter',
  args: '<topic>',
  summary: "Change a topic's settings and/or grow its partition count.",
  options: {
    partitions: { type: 'string', short: 'p' },
    config: { type: 'string', short: 'c', multiple: true },
    'delete-config': { type: 'string', multiple: true },
  },
  flagHelp: {
    config: 'a setting to change, repeatable: --config retention.ms=3600000',
    'delete-config':
      "remove a setting's override (back to the broker default), repeatable: --delete-config retention.ms",
    partitions: 'the new total partition count (partitions are only ever added)',
  },
  positionals: 1,
  async run(ctx, values, [name]) {
    const config = configChanges(
      configFlags(values.config as string[] | undefined),
      values['delete-config'] as string[] | undefined,
    );
    const partitions = integerFlag('partitions', values.partitions as string | undefined, 1);
    if (config === undefined && partitions === undefined) {
      throw new UsageError(
        'nothing to alter: give --config key=value, --delete-config key and/or --partitions N',
      );
    }
    const client = admin(ctx);
    let topic: TopicDescription | undefined;
    if (config !== undefined) topic = await client.alterTopicConfig(name!, config);
    if (partitions !== undefined) topic = await client.createPartitions(name!, partitions);
    await write(
      ctx.io.stdout,
      ctx.json ? jsonLine(topic) : `Altered topic '${name}'\n${describeText(topic!, false)}`,
    );
    return 0;
  },
};

/** `--at` as the offsets endpoint takes it: earliest, latest, epoch ms, or an ISO-8601 date. */
function parseAt(value: string): OffsetSpec {
  if (value === 'earliest' || value === 'latest') return value;
  if (/^\d+$/.test(value)) return Number(value);
  const time = Date.parse(value);
  if (Number.isNaN(time)) {
    throw new UsageError(`--at takes earliest, latest, epoch ms or an ISO date, got '${value}'`);
  }
  return time;
}

export const offsets: Command = {
  name: 'offsets',
  args: '<topic>',
  summary: "Show each partition's earliest and latest offsets, or the offset at a time (--at).",
  options: { partition: { type: 'string', short: 'p' }, at: { type: 'string' } },
  flagHelp: {
    partition: 'only this partition',
    at: 'earliest, latest, epoch ms or an ISO date: the first offset at or after that time (-1: none)',
  },
  positionals: 1,
  async run(ctx: CommandContext, values: FlagValues, [name]) {
    const client = admin(ctx);
    const only = integerFlag('partition', values.partition as string | undefined);
    let topic = await client.describeTopic(name!);
    let partitions = topic.partitions;
    if (only !== undefined) {
      partitions = partitions.filter((p) => p.partition === only);
      if (partitions.length === 0) {
        throw new UsageError(
          `topic '${name}' has ${topic.partitions.length} partitions, no partition ${only}`,
        );
      }
    }
    const at = values.at as string | undefined;
    if (at === undefined) {
      // In a cluster, the offsets of each leader (one partition's only, with --partition).
      topic = await client.withLeaderOffsets({ ...topic, partitions });
      partitions = topic.partitions;
      const rows = partitions.map((p) => ({
        partition: p.partition,
        earliest: p.logStartOffset,
        latest: p.highWatermark,
      }));
      await write(
        ctx.io.stdout,
        ctx.json
          ? jsonLine({ topic: topic.name, partitions: rows })
          : table(
              ['PARTITION', 'EARLIEST', 'LATEST', 'RECORDS'],
              rows.map((r) => [r.partition, r.earliest, r.latest, r.latest - r.earliest]),
            ),
      );
      return 0;
    }
    const spec = parseAt(at);
    const answers = await Promise.all(
      partitions.map(async (p) => ({
        partition: p.partition,
        ...(await client.listOffset(name!, p.partition, spec)),
      })),
    );
    await write(
      ctx.io.stdout,
      ctx.json
        ? jsonLine({ topic: topic.name, at, partitions: answers })
        : table(
            ['PARTITION', 'OFFSET', 'TIMESTAMP'],
            answers.map((a) => [
              a.partition,
              a.offset,
              a.timestamp === undefined ? '-' : new Date(a.timestamp).toISOString(),
            ]),
          ),
    );
    return 0;
  },
};
