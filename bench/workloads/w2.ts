/** @module W2: 500,000 records of 1 KiB to one partition from one producer, acks=all, page-cache durability. */
import { produceWorkload, RECORD_1_KIB } from './produce-workload.ts';

export const w2 = produceWorkload({
  name: 'w2',
  title: 'produce 500,000 × 1 KiB records to 1 partition, 1 producer',
  records: 500_000,
  valueBytes: RECORD_1_KIB,
  partitions: 1,
  producers: 1,
  durability: 'os-cache',
});
