/**
 * @module
 * Topic administration: create, list, describe, delete, alter config, add partitions (docs/http-api.md).
 * `POST /v1/topics` takes `{name, partitions?, config?, replicationFactor?}`; a description lists each
 * partition's `leader`, `leaderEpoch`, `replicas` and `isr` when the broker is in a cluster.
 */
import { Hono } from 'hono';
import type { TopicConfigChanges, TopicConfigEntries } from '../../ipc/engine.ts';
import { BrokerError } from '../../shared/errors.ts';
import { checkTopicName, parsePartition } from '../params.ts';
import { readStructuredBody } from '../read-body.ts';
import { send } from '../respond.ts';
import type { RouteDeps } from '../route-deps.ts';

function isObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
  );
}

/**
 * `{"retention.ms": 1000, ...}`: values are strings or numbers, as Kafka's configs are strings; with
 * `allowNull` (altering a topic) a null value removes that override, back to the broker default. Which names
 * and values are valid is the engine's check (INVALID_CONFIG).
 */
function parseConfig(value: unknown, allowNull: true): TopicConfigChanges;
function parseConfig(value: unknown, allowNull?: false): TopicConfigEntries;
function parseConfig(value: unknown, allowNull = false): TopicConfigChanges {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw new BrokerError('INVALID_CONFIG', 'config must be an object of name: value');
  for (const [name, setting] of Object.entries(value)) {
    if (allowNull && setting === null) continue;
    if (typeof setting !== 'string' && typeof setting !== 'number') {
      throw new BrokerError(
        'INVALID_CONFIG',
        `config '${name}' must be a string or a number${allowNull ? ', or null to remove the override' : ''}`,
      );
    }
  }
  // fromEntries defines own properties, so a '__proto__' entry stays a (refused) name, not a prototype.
  return Object.fromEntries(Object.entries(value)) as TopicConfigChanges;
}

function parseCount(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new BrokerError('INVALID_PARTITIONS', `${field} must be a positive integer`);
  }
  return value;
}

/** Replicas per partition: a positive integer; how many the cluster can hold is the engine's check. */
function parseReplicationFactor(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new BrokerError('INVALID_REPLICATION_FACTOR', 'replicationFactor must be a positive integer');
  }
  return value;
}

function bodyObject(body: unknown, shape: string): Record<string, unknown> {
  if (!isObject(body)) throw new BrokerError('INVALID_REQUEST', `the body must be ${shape}`);
  return body;
}

export function topicRoutes(deps: RouteDeps): Hono {
  const { engine, config } = deps;
  const app = new Hono();

  app.post('/v1/topics', async (c) => {
    const { body } = await readStructuredBody(c.req.raw, config.maxRequestBytes);
    const request = bodyObject(body, '{name, partitions?, config?, replicationFactor?}');
    if (typeof request.name !== 'string')
      throw new BrokerError('INVALID_TOPIC_EXCEPTION', 'name must be a string');
    const name = checkTopicName(request.name);
    const partitions =
      request.partitions === undefined || request.partitions === null
        ? config.defaultPartitions
        : parseCount(request.partitions, 'partitions');
    const replicationFactor = parseReplicationFactor(request.replicationFactor);
    return send(
      c,
      201,
      await engine.createTopic(name, partitions, parseConfig(request.config), replicationFactor),
    );
  });

  app.get('/v1/topics', async (c) => send(c, 200, { topics: await engine.listTopics() }));

  app.get('/v1/topics/:topic', async (c) =>
    send(c, 200, await engine.describeTopic(checkTopicName(c.req.param('topic')))),
  );

  app.delete('/v1/topics/:topic', async (c) => {
    await engine.deleteTopic(checkTopicName(c.req.param('topic')));
    return send(c, 204, null);
  });

  app.patch('/v1/topics/:topic/config', async (c) => {
    const topic = checkTopicName(c.req.param('topic'));
    const { body } = await readStructuredBody(c.req.raw, config.maxRequestBytes);
    const request = bodyObject(body, '{config: {name: value | null, ...}}');
    if (!isObject(request.config))
      throw new BrokerError('INVALID_CONFIG', 'config must be an object of name: value');
    return send(c, 200, await engine.alterTopicConfig(topic, parseConfig(request.config, true)));
  });

  app.post('/v1/topics/:topic/partitions', async (c) => {
    const topic = checkTopicName(c.req.param('topic'));
    const { body } = await readStructuredBody(c.req.raw, config.maxRequestBytes);
    const request = bodyObject(body, '{count}');
    return send(c, 200, await engine.createPartitions(topic, parseCount(request.count, 'count')));
  });

  app.post('/v1/topics/:topic/partitions/:partition/reassign', async (c) => {
    const topic = checkTopicName(c.req.param('topic'));
    const partition = parsePartition(c.req.param('partition'));
    const { body } = await readStructuredBody(c.req.raw, config.maxRequestBytes);
    const request = bodyObject(body, '{replicas: [nodeId, ...]}');
    const { replicas } = request;
    if (!Array.isArray(replicas) || !replicas.every((b) => Number.isSafeInteger(b) && (b as number) >= 0)) {
      throw new BrokerError('INVALID_REPLICA_ASSIGNMENT', 'replicas must be a list of node ids');
    }
    return send(c, 202, await engine.reassignPartition(topic, partition, replicas as number[]));
  });

  return app;
}
