/**
 * @module
 * msgpack between brokers (the internal routes: replica fetches, forwarded group calls). 'msgpackr/pack' is
 * msgpackr in plain JS: its main entry loads the msgpackr-extract native addon from node_modules, which the
 * compiled binary must not depend on (test/e2e/binary.test.ts). Plain maps, so the messages stay readable
 * by any msgpack tool.
 */
import { Packr } from 'msgpackr/pack';

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

export function packInternal(value: unknown): Uint8Array {
  return packr.pack(value);
}

export function unpackInternal(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}
