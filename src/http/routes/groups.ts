/**
 * @module
 * Consumer groups over HTTP: join, sync, heartbeat, leave, commit and fetch offsets, list, describe (with
 * lag), delete (docs/http-api.md, "Consumer groups"). Bodies are checked field by field here; the group
 * rules (generations, fencing, session limits) are the coordinator's.
 */
import { type Context, Hono } from 'hono';
import type { CommitOffset, GroupProtocol, TopicPartitions } from '../../coordinator/group-api.ts';
import { BrokerError } from '../../shared/errors.ts';
import { checkTopicName, parseInteger } from '../params.ts';
import { readStructuredBody } from '../read-body.ts';
import { send } from '../respond.ts';
import type { RouteDeps } from '../route-deps.ts';

const PROTOCOL_TYPE = 'consumer';
const DEFAULT_ASSIGNORS = ['cooperative-sticky', 'range'];
const DEFAULT_SESSION_TIMEOUT_MS = 10_000;
const DEFAULT_REBALANCE_TIMEOUT_MS = 60_000;
const MAX_ID_LENGTH = 255;
const MAX_LIST = 100_000;

type Body = Record<string, unknown>;

function isObject(value: unknown): value is Body {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
  );
}

function invalid(message: string): BrokerError {
  return new BrokerError('INVALID_REQUEST', message);
}

function optionalString(body: Body, field: string, fallback: string): string {
  const value = body[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string' || value.length > MAX_ID_LENGTH) {
    throw invalid(`${field} must be a string of at most ${MAX_ID_LENGTH} characters`);
  }
  return value;
}

function nullableString(body: Body, field: string): string | null {
  const value = optionalString(body, field, '');
  return value === '' ? null : value;
}

function integer(body: Body, field: string, fallback?: number): number {
  const value = body[field];
  if ((value === undefined || value === null) && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw invalid(`${field} must be an integer${fallback === undefined ? ' (required)' : ''}`);
  }
  return value;
}

function list(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw invalid(`${field} must be an array`);
  if (value.length > MAX_LIST) throw invalid(`${field} has more than ${MAX_LIST} entries`);
  return value;
}

function topicNames(value: unknown, field: string): string[] {
  return list(value, field).map((t) => {
    if (typeof t !== 'string') throw invalid(`${field} must be an array of topic names`);
    return checkTopicName(t);
  });
}

function topicPartitions(value: unknown, field: string): TopicPartitions[] {
  if (value === undefined || value === null) return [];
  return list(value, field).map((entry) => {
    if (!isObject(entry)) throw invalid(`${field} must be an array of {topic, partitions}`);
    if (typeof entry.topic !== 'string') throw invalid(`${field}[].topic must be a topic name`);
    const partitions = list(entry.partitions, `${field}[].partitions`).map((p) => {
      if (typeof p !== 'number' || !Number.isInteger(p) || p < 0) {
        throw invalid(`${field}[].partitions must be integers >= 0`);
      }
      return p;
    });
    return { topic: checkTopicName(entry.topic), partitions: [...new Set(partitions)].sort((a, b) => a - b) };
  });
}

function assignorNames(value: unknown): string[] {
  if (value === undefined || value === null) return DEFAULT_ASSIGNORS;
  const names = list(value, 'assignors');
  if (names.length === 0) throw invalid('assignors must name at least one assignor');
  return names.map((n) => {
    if (typeof n !== 'string') throw invalid('assignors must be an array of names');
    return n;
  });
}

function commitOffsets(value: unknown): CommitOffset[] {
  return list(value, 'offsets').map((entry) => {
    if (!isObject(entry)) throw invalid('offsets must be an array of {topic, partition, offset, metadata?}');
    if (typeof entry.topic !== 'string') throw invalid('offsets[].topic must be a topic name');
    const metadata = entry.metadata ?? '';
    if (typeof metadata !== 'string') throw invalid('offsets[].metadata must be a string');
    return {
      topic: checkTopicName(entry.topic),
      partition: integer(entry, 'partition'),
      offset: integer(entry, 'offset'),
      metadata,
      leaderEpoch: -1,
    };
  });
}

function groupIdOf(c: Context): string {
  const groupId = c.req.param('group') ?? '';
  if (groupId.length === 0 || groupId.length > MAX_ID_LENGTH) {
    throw new BrokerError('INVALID_GROUP_ID', `group id must be 1 to ${MAX_ID_LENGTH} characters`);
  }
  return groupId;
}

/** The peer address when the server gives it (Bun.serve does, through `requestIP`). */
function clientHost(c: Context): string {
  const server = c.env as { requestIP?: (request: Request) => { address: string } | null } | undefined;
  try {
    return server?.requestIP?.(c.req.raw)?.address ?? '';
  } catch {
    return '';
  }
}

export function groupRoutes(deps: RouteDeps): Hono {
  const { engine, config } = deps;
  const app = new Hono();

  const readBody = async (c: Context, shape: string): Promise<Body> => {
    const { body } = await readStructuredBody(c.req.raw, config.maxRequestBytes);
    if (!isObject(body)) throw invalid(`the body must be ${shape}`);
    return body;
  };

  app.post('/v1/groups/:group/join', async (c) => {
    const groupId = groupIdOf(c);
    const body = await readBody(
      c,
      '{topics, memberId?, groupInstanceId?, assignors?, ownedPartitions?, ...}',
    );
    const subscription = {
      topics: topicNames(body.topics, 'topics'),
      ownedPartitions: topicPartitions(body.ownedPartitions, 'ownedPartitions'),
    };
    const protocols: GroupProtocol[] = assignorNames(body.assignors).map((name) => ({ name, subscription }));
    const answer = await engine.joinGroup({
      groupId,
      memberId: optionalString(body, 'memberId', ''),
      groupInstanceId: nullableString(body, 'groupInstanceId'),
      protocolType: PROTOCOL_TYPE,
      protocols,
      sessionTimeoutMs: integer(body, 'sessionTimeoutMs', DEFAULT_SESSION_TIMEOUT_MS),
      rebalanceTimeoutMs: integer(body, 'rebalanceTimeoutMs', DEFAULT_REBALANCE_TIMEOUT_MS),
      clientId: optionalString(body, 'clientId', ''),
      clientHost: clientHost(c),
    });
    return send(c, 200, {
      memberId: answer.memberId,
      generationId: answer.generationId,
      assignor: answer.protocolName,
      leader: answer.leader,
      members: answer.members.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        topics: m.subscription.topics,
      })),
      ...(answer.skipAssignment ? { skipAssignment: true } : {}),
    });
  });

  app.post('/v1/groups/:group/sync', async (c) => {
    const groupId = groupIdOf(c);
    const body = await readBody(c, '{memberId, generationId, groupInstanceId?}');
    const answer = await engine.syncGroup({
      groupId,
      memberId: optionalString(body, 'memberId', ''),
      generationId: integer(body, 'generationId'),
      groupInstanceId: nullableString(body, 'groupInstanceId'),
    });
    return send(c, 200, { assignor: answer.protocolName, assignment: answer.assignment });
  });

  app.post('/v1/groups/:group/heartbeat', async (c) => {
    const groupId = groupIdOf(c);
    const body = await readBody(c, '{memberId, generationId, groupInstanceId?}');
    await engine.heartbeat({
      groupId,
      memberId: optionalString(body, 'memberId', ''),
      generationId: integer(body, 'generationId'),
      groupInstanceId: nullableString(body, 'groupInstanceId'),
    });
    return send(c, 200, {});
  });

  app.post('/v1/groups/:group/leave', async (c) => {
    const groupId = groupIdOf(c);
    const body = await readBody(c, '{memberId?, groupInstanceId?}');
    const memberId = optionalString(body, 'memberId', '');
    const groupInstanceId = nullableString(body, 'groupInstanceId');
    if (memberId === '' && groupInstanceId === null) throw invalid('leave needs memberId or groupInstanceId');
    await engine.leaveGroup({ groupId, members: [{ memberId, groupInstanceId }] });
    return send(c, 200, {});
  });

  app.post('/v1/groups/:group/offsets', async (c) => {
    const groupId = groupIdOf(c);
    const body = await readBody(
      c,
      '{offsets:[{topic, partition, offset, metadata?}], memberId?, generationId?}',
    );
    const memberId = optionalString(body, 'memberId', '');
    await engine.commitOffsets({
      groupId,
      memberId,
      generationId: integer(body, 'generationId', -1),
      groupInstanceId: nullableString(body, 'groupInstanceId'),
      offsets: commitOffsets(body.offsets),
    });
    return send(c, 200, {});
  });

  app.get('/v1/groups/:group/offsets', async (c) => {
    const groupId = groupIdOf(c);
    const topic = c.req.query('topic');
    const partition = c.req.query('partition');
    let offsets = await engine.fetchOffsets({ groupId, topics: null });
    if (topic !== undefined) {
      checkTopicName(topic);
      offsets = offsets.filter((o) => o.topic === topic);
      if (partition !== undefined) {
        const p = parseInteger('partition', partition, { min: 0 });
        offsets = offsets.filter((o) => o.partition === p);
      }
    }
    return send(c, 200, {
      offsets: offsets.map(({ topic: t, partition: p, offset, metadata, commitTimestamp }) => ({
        topic: t,
        partition: p,
        offset,
        metadata,
        commitTimestamp,
      })),
    });
  });

  app.get('/v1/groups', async (c) => send(c, 200, { groups: await engine.listGroups() }));

  app.get('/v1/groups/:group', async (c) => {
    const { protocolName, members, ...group } = await engine.describeGroup(groupIdOf(c));
    return send(c, 200, {
      ...group,
      assignor: protocolName,
      members: members.map(({ subscription, metadata: _m, assignmentBytes: _a, ...m }) => ({
        ...m,
        topics: subscription.topics,
      })),
    });
  });

  app.delete('/v1/groups/:group', async (c) => {
    await engine.deleteGroup(groupIdOf(c));
    return send(c, 204, null);
  });

  return app;
}
