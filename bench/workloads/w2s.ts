/** @module W2s: W2 acknowledged only after an fsync covering each record (Freshet flush.policy=always, group commit; Redis appendfsync always). */
import { produceWorkload, RECORD_1_KIB } from './produce-workload.ts';

export const w2s = produceWorkload({
  name: 'w2s',
  title: 'produce 500,000 × 1 KiB records to 1 partition, 1 producer, fsync before every acknowledgement',
  records: 500_000,
  valueBytes: RECORD_1_KIB,
  partitions: 1,
  producers: 1,
  durability: 'fsync-always',
});
