/** @module W1: 1,000,000 records of 100 B to one partition from one producer, acks=all, page-cache durability. */
import { produceWorkload, RECORD_100_B } from './produce-workload.ts';

export const w1 = produceWorkload({
  name: 'w1',
  title: 'produce 1,000,000 × 100 B records to 1 partition, 1 producer',
  records: 1_000_000,
  valueBytes: RECORD_100_B,
  partitions: 1,
  producers: 1,
  durability: 'os-cache',
});
