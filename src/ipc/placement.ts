/**
 * @module
 * Which worker owns a partition. Placement is stable for a given worker count:
 *   worker = (toPositive(murmur2(UTF-8 topic name)) + partition) mod workers
 * so one topic's partitions spread round-robin over the workers, starting at a point that depends on
 * the topic (many one-partition topics do not all land on worker 0). Changing `--workers` moves
 * partitions between workers on the next start, which is safe: ownership is decided at start-up.
 */
import { murmur2, toPositive } from '../records/murmur2.ts';

const encoder = new TextEncoder();

export function workerFor(topic: string, partition: number, workers: number): number {
  return (toPositive(murmur2(encoder.encode(topic))) + partition) % workers;
}
