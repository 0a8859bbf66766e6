/** @module W1p: W1 spread over 8 partitions by 4 producers (each producer owns 2 partitions). */
import { produceWorkload, RECORD_100_B } from './produce-workload.ts';

export const w1p = produceWorkload({
  name: 'w1p',
  title: 'produce 1,000,000 × 100 B records to 8 partitions, 4 producers',
  records: 1_000_000,
  valueBytes: RECORD_100_B,
  partitions: 8,
  producers: 4,
  durability: 'os-cache',
});
