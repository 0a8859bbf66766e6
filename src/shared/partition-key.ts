/**
 * One spelling of a partition as a map key: the topic, a NUL, the partition number. Topic names cannot hold
 * NUL (Kafka's legal characters are [a-zA-Z0-9._-]), so two partitions never share a key.
 */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** The inverse of `partitionKey`. */
export function parsePartitionKey(key: string): { topic: string; partition: number } {
  const cut = key.lastIndexOf('\u0000');
  return { topic: key.slice(0, cut), partition: Number(key.slice(cut + 1)) };
}
