/** @module W2p: W2 spread over 8 partitions by 4 producers (each producer owns 2 partitions). */
import { produceWorkload, RECORD_1_KIB } from './produce-workload.ts';

export const w2p = produceWorkload({
  name: 'w2p',
  title: 'produce 500,000 × 1 KiB records to 8 partitions, 4 producers',
  records: 500_000,
  valueBytes: RECORD_1_KIB,
  partitions: 8,
  producers: 4,
  durability: 'os-cache',
});
