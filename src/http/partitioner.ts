/**
 * @module
 * Picks the partition of each record of one `{records}` produce request, as Kafka's default partitioner
 * does: the record's `partition` if given, else murmur2 of its key, else one "sticky" partition for every
 * record of the request that has neither, chosen at random (in a cluster among the partitions the
 * answering broker leads, when it leads any: no hop to another broker for records that may go anywhere).
 */
import { partitionForKey } from '../records/murmur2.ts';
import { BrokerError } from '../shared/errors.ts';

export interface PartitionedRecord {
  key?: Uint8Array | null;
  partition?: number;
}

/** Returns the partition for a record; one partitioner per request (the sticky choice lives in it). */
export type Partitioner = (record: PartitionedRecord) => number;

export function createPartitioner(
  topic: string,
  partitionCount: number,
  random: () => number = Math.random,
  preferred: readonly number[] = [],
): Partitioner {
  const choices = preferred.filter((p) => Number.isInteger(p) && p >= 0 && p < partitionCount);
  let sticky = -1;
  return (record) => {
    const explicit = record.partition;
    if (explicit !== undefined) {
      if (!Number.isInteger(explicit) || explicit < 0 || explicit >= partitionCount) {
        throw new BrokerError(
          'UNKNOWN_TOPIC_OR_PARTITION',
          `topic '${topic}' has no partition ${explicit} (it has ${partitionCount})`,
        );
      }
      return explicit;
    }
    if (record.key != null) return partitionForKey(record.key, partitionCount);
    // Chosen on first use, once per request: batching all keyless records into one partition is the
    // point of sticky partitioning (one batch, one append), as Kafka's producer does per batch.
    if (sticky < 0) {
      sticky =
        choices.length > 0
          ? choices[Math.min(choices.length - 1, Math.floor(random() * choices.length))]!
          : Math.min(partitionCount - 1, Math.floor(random() * partitionCount));
    }
    return sticky;
  };
}
