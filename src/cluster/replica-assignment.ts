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

/** A broker's rack for spreading; a broker without one is a rack of its own. */
function rackOf(b: AssignableBroker): string {
  return b.rack ?? `\u0000${b.nodeId}`;
}

/** Brokers in rack-alternating order; brokers without a rack count as one rack of their own each. */
export function rackAlternatingOrder(brokers: readonly AssignableBroker[]): number[] {
  const byRack = new Map<string, AssignableBroker[]>();
  for (const b of [...brokers].sort((x, y) => x.nodeId - y.nodeId)) {
    const list = byRack.get(rackOf(b));
    if (list) list.push(b);
    else byRack.set(rackOf(b), [b]);
  }
  // Named racks by name, then the brokers without a rack by node id (numerically, not as strings).
  const racks = [...byRack.entries()]
    .sort(([ra, a], [rb, b]) => {
      const na = a[0]!.rack === null;
      const nb = b[0]!.rack === null;
      if (na !== nb) return na ? 1 : -1;
      return na ? a[0]!.nodeId - b[0]!.nodeId : ra < rb ? -1 : ra > rb ? 1 : 0;
    })
    .map(([, list]) => list);
  const order: number[] = [];
  for (let round = 0; order.length < brokers.length; round++) {
    for (const list of racks) {
      const b = list[round];
      if (b !== undefined) order.push(b.nodeId);
    }
  }
  return order;
}

/**
 * Replicas for each of `partitions` (preferred leader first). Partition p's leader is the broker at
 * `start + p` in rack-alternating order; its followers are the next brokers in that order whose racks hold
 * no replica of p yet, then (once every rack holds one) the next brokers whatever their rack. Throws when
 * there are fewer brokers than `replicationFactor` (the caller answers INVALID_REPLICATION_FACTOR first).
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
  const rack = new Map(brokers.map((b) => [b.nodeId, rackOf(b)]));
  const rackCount = new Set(rack.values()).size;
  const n = order.length;
  const out = new Map<number, number[]>();
  for (const p of partitions) {
    const first = (start + p) % n;
    const replicas = [order[first]!];
    const racks = new Set([rack.get(order[first]!)!]);
    for (let k = 1; k < n && replicas.length < replicationFactor; k++) {
      const candidate = order[(first + k) % n]!;
      if (racks.size < rackCount && racks.has(rack.get(candidate)!)) continue;
      replicas.push(candidate);
      racks.add(rack.get(candidate)!);
    }
    // Brokers passed over while racks were still missing fill what is left, in order.
    for (let k = 1; k < n && replicas.length < replicationFactor; k++) {
      const candidate = order[(first + k) % n]!;
      if (!replicas.includes(candidate)) replicas.push(candidate);
    }
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
