/**
 * @module
 * Where a new partition's replicas go: a pure function the controller calls (table-tested). Brokers are put
 * in rack-alternating order (the first broker of each rack, then the second of each, ...), as Kafka's
 * rack-aware assignment does, so consecutive brokers stand in different racks whenever racks allow; then
 * partition p takes `replicationFactor` consecutive brokers from position `start + p`. Leaders (the first
 * replica, the preferred leader) therefore go round the brokers, and each partition's replicas span as many
 * racks as there are. `start` varies per topic so small topics do not all lead on the same broker.
 */

export interface AssignableBroker {
  nodeId: number;
  rack: string | null;
}

/** Brokers in rack-alternating order; brokers without a rack count as one rack of their own each. */
export function rackAlternatingOrder(brokers: readonly AssignableBroker[]): number[] {
  const byRack = new Map<string, number[]>();
  for (const b of [...brokers].sort((x, y) => x.nodeId - y.nodeId)) {
    const rack = b.rack ?? `\u0000${b.nodeId}`;
    const list = byRack.get(rack);
    if (list) list.push(b.nodeId);
    else byRack.set(rack, [b.nodeId]);
  }
  const racks = [...byRack.keys()].sort();
  const order: number[] = [];
  for (let round = 0; order.length < brokers.length; round++) {
    for (const rack of racks) {
      const id = byRack.get(rack)![round];
      if (id !== undefined) order.push(id);
    }
  }
  return order;
}

/**
 * Replicas for each of `partitions` (preferred leader first). Throws when there are fewer brokers than
 * `replicationFactor` (the caller answers INVALID_REPLICATION_FACTOR before it gets here).
 */
export function assignReplicas(
  brokers: readonly AssignableBroker[],
  partitions: readonly number[],
  replicationFactor: number,
  start: number,
): Map<number, number[]> {
  if (replicationFactor < 1 || replicationFactor > brokers.length) {
    throw new Error(`cannot place ${replicationFactor} replicas on ${brokers.length} brokers`);
  }
  const order = rackAlternatingOrder(brokers);
  const n = order.length;
  const out = new Map<number, number[]>();
  for (const p of partitions) {
    const replicas: number[] = [];
    for (let j = 0; j < replicationFactor; j++) replicas.push(order[(start + p + j) % n]!);
    out.set(p, replicas);
  }
  return out;
}

/** A stable, well-spread start position for `topic` (FNV-1a of its name). */
export function startFor(topic: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < topic.length; i++) {
    h ^= topic.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
