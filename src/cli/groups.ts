/**
 * @module
 * `freshet groups list|describe|reset-offsets|delete`: consumer-group administration over the Admin client,
 * a table for people and the API's own JSON for scripts (`--json`). reset-offsets behaves as Kafka's
 * `kafka-consumer-groups.sh --reset-offsets`: only for an inactive group, one `--to-*` target.
 */
import {
  Admin,
  FreshetError,
  type GroupDescription,
  type GroupState,
  type OffsetResetTarget,
  type ResolvedOffset,
} from '../client/index.ts';
import type { Command, CommandContext } from './command.ts';
import { integerFlag, jsonLine, table, UsageError, write } from './io.ts';

/** Two quick retries: enough for a broker that is restarting, short enough to report a dead one at once. */
function admin(ctx: CommandContext): Admin {
  return new Admin({ http: ctx.http, retries: 2 });
}

/** A count or offset, or '-' where the API says "none" (-1, null, ''). */
function orDash(value: number | string | null): string | number {
  return value === null || value === -1 || value === '' ? '-' : value;
}

function describeText(group: GroupDescription): string {
  let text =
    `Group: ${group.groupId}  State: ${group.state}  Assignor: ${orDash(group.assignor)}  ` +
    `Generation: ${group.generationId}  Members: ${group.members.length}\n`;
  if (group.partitions.length === 0) return `${text}No committed offsets and no assigned partitions\n`;
  const rows = [...group.partitions].sort((a, b) =>
    a.topic === b.topic ? a.partition - b.partition : a.topic.localeCompare(b.topic),
  );
  text += table(
    ['TOPIC', 'PARTITION', 'MEMBER', 'COMMITTED', 'LOG-END', 'LAG'],
    rows.map((p) => [
      p.topic,
      p.partition,
      orDash(p.memberId),
      orDash(p.committedOffset),
      p.logEndOffset,
      orDash(p.lag),
    ]),
  );
  return text;
}

export const groupsList: Command = {
  name: 'groups list',
  args: '',
  summary: 'List the consumer groups with their state and member count.',
  options: {},
  flagHelp: {},
  positionals: 0,
  async run(ctx) {
    const groups = await admin(ctx).listGroups();
    if (ctx.json) await write(ctx.io.stdout, jsonLine({ groups }));
    else if (groups.length === 0) await write(ctx.io.stdout, 'No groups\n');
    else {
      const sorted = [...groups].sort((a, b) => a.groupId.localeCompare(b.groupId));
      await write(
        ctx.io.stdout,
        table(
          ['GROUP', 'STATE', 'MEMBERS'],
          sorted.map((g) => [g.groupId, g.state, g.members]),
        ),
      );
    }
    return 0;
  },
};

export const groupsDescribe: Command = {
  name: 'groups describe',
  args: '<group>',
  summary: "Show a group's state and, per partition, its owner, committed offset and lag.",
  options: {},
  flagHelp: {},
  positionals: 1,
  async run(ctx, _values, [groupId]) {
    const group = await admin(ctx).describeGroup(groupId!);
    await write(ctx.io.stdout, ctx.json ? jsonLine(group) : describeText(group));
    return 0;
  },
};

export const groupsDelete: Command = {
  name: 'groups delete',
  args: '<group>',
  summary: 'Delete a group without members, and its committed offsets.',
  options: {},
  flagHelp: {},
  positionals: 1,
  async run(ctx, _values, [groupId]) {
    await admin(ctx).deleteGroup(groupId!);
    await write(ctx.io.stdout, ctx.json ? jsonLine({ deleted: groupId }) : `Deleted group '${groupId}'\n`);
    return 0;
  },
};

const ISO_DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(?:Z|[+-](\d{2}):(\d{2}))?$/;

/**
 * `--to-datetime` as Kafka's tool takes it: ISO-8601 date and time (`2026-11-21T10:00:00Z`,
 * `2026-11-21T10:00:00.000+01:00`); without a zone it is local time. Epoch ms, or 0 for a time before 1970.
 */
export function parseDatetime(value: string): number {
  const match = ISO_DATETIME.exec(value);
  const bad = () =>
    new UsageError(
      `--to-datetime takes an ISO-8601 date and time such as 2026-11-21T10:00:00Z, got '${value}'`,
    );
  if (match === null) throw bad();
  const [, year, month, day, hour, minute, second, zoneHour, zoneMinute] = match.map(Number);
  // Date.parse rolls some impossible dates over (Feb 30 → Mar 2) instead of refusing them.
  const daysInMonth = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  const fieldsOk =
    month! >= 1 &&
    month! <= 12 &&
    day! >= 1 &&
    day! <= daysInMonth &&
    hour! <= 23 &&
    minute! <= 59 &&
    (Number.isNaN(second) || second! <= 59) &&
    (Number.isNaN(zoneHour) || (zoneHour! <= 23 && zoneMinute! <= 59));
  const time = Date.parse(value);
  if (!fieldsOk || Number.isNaN(time)) throw bad();
  return Math.max(0, time);
}

const TARGET_FLAGS = ['to-earliest', 'to-latest', 'to-offset', 'to-datetime'] as const;

/** Exactly one `--to-*` flag, as the Admin's reset target. */
function resetTarget(values: Record<string, unknown>): OffsetResetTarget {
  const given = TARGET_FLAGS.filter((flag) => values[flag] !== undefined && values[flag] !== false);
  if (given.length !== 1) {
    const what = given.length === 0 ? 'no target' : `${given.map((f) => `--${f}`).join(' and ')}`;
    throw new UsageError(
      `give exactly one of --to-earliest, --to-latest, --to-offset N, --to-datetime D (got ${what})`,
    );
  }
  switch (given[0]!) {
    case 'to-earliest':
      return 'earliest';
    case 'to-latest':
      return 'latest';
    case 'to-offset':
      return { offset: integerFlag('to-offset', values['to-offset'] as string)! };
    case 'to-datetime':
      return { timestamp: parseDatetime(values['to-datetime'] as string) };
  }
}

/** Kafka's tool resets only groups nobody consumes in: Empty, or Dead (unknown: the commit creates it). */
const INACTIVE: ReadonlySet<GroupState> = new Set<GroupState>(['Empty', 'Dead']);

async function groupState(client: Admin, groupId: string): Promise<GroupState> {
  try {
    return (await client.describeGroup(groupId)).state;
  } catch (err) {
    if (err instanceof FreshetError && err.code === 'GROUP_ID_NOT_FOUND') return 'Dead';
    throw err;
  }
}

function activeGroupError(groupId: string, state: GroupState): FreshetError {
  return new FreshetError(
    'NON_EMPTY_GROUP',
    `Assignments can only be reset if the group '${groupId}' is inactive, but the current state is ${state}.`,
  );
}

export const groupsResetOffsets: Command = {
  name: 'groups reset-offsets',
  args: '<group>',
  summary: "Move an inactive group's committed offsets on a topic; prints the new offset per partition.",
  options: {
    topic: { type: 'string', short: 't' },
    partition: { type: 'string', short: 'p', multiple: true },
    'to-earliest': { type: 'boolean' },
    'to-latest': { type: 'boolean' },
    'to-offset': { type: 'string' },
    'to-datetime': { type: 'string' },
    'dry-run': { type: 'boolean' },
  },
  flagHelp: {
    topic: 'the topic whose offsets move (required)',
    partition: 'only this partition, repeatable (default: every partition of the topic)',
    'to-earliest': 'to the log start offset',
    'to-latest': 'to the log end offset',
    'to-offset': 'to this offset, clamped into [log start, log end]',
    'to-datetime':
      'to the first offset at or after this ISO-8601 time, e.g. 2026-11-21T10:00:00Z (else the log end)',
    'dry-run': 'print the new offsets without committing them',
  },
  details:
    "Give exactly one --to-* flag. The group must have no members (state Empty), as with Kafka's tool;\n" +
    'a group the broker does not know yet gets its first offsets.',
  positionals: 1,
  async run(ctx, values, [groupId]) {
    const topic = values.topic as string | undefined;
    if (topic === undefined || topic === '') throw new UsageError('missing --topic T');
    const to = resetTarget(values);
    const partitions = (values.partition as string[] | undefined)?.map((p) => integerFlag('partition', p)!);
    const dryRun = values['dry-run'] === true;
    const client = admin(ctx);
    const state = await groupState(client, groupId!);
    if (!INACTIVE.has(state)) throw activeGroupError(groupId!, state);
    let offsets: ResolvedOffset[];
    try {
      offsets = dryRun
        ? await client.resolveOffsets(topic, to, partitions)
        : await client.resetOffsets(groupId!, topic, to, partitions);
    } catch (err) {
      // A member joined between the state check and the commit.
      if (err instanceof FreshetError && err.code === 'UNKNOWN_MEMBER_ID') {
        const now = await groupState(client, groupId!);
        if (!INACTIVE.has(now)) throw activeGroupError(groupId!, now);
      }
      throw err;
    }
    if (ctx.json) {
      await write(ctx.io.stdout, jsonLine({ groupId, topic, dryRun, offsets }));
    } else {
      await write(
        ctx.io.stdout,
        table(
          ['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET'],
          offsets.map((o) => [groupId!, o.topic, o.partition, o.offset]),
        ),
      );
      if (dryRun) await write(ctx.io.stderr, 'Dry run: nothing was committed.\n');
    }
    return 0;
  },
};
