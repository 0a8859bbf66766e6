/** @module The worker side of bench/ipc.ts: takes batches by each transport, reads every cache line of them and acknowledges with a checksum. */
import { parentPort } from 'node:worker_threads';
import { openRing, type RingReader, type RingSlot } from '../src/ipc/ring.ts';

/** What bench/ipc.ts posts. */
export type IpcBenchMessage =
  | { kind: 'open-ring'; sab: SharedArrayBuffer }
  | { kind: 'ring'; slot: RingSlot }
  | { kind: 'clone'; bytes: Uint8Array }
  | { kind: 'transfer'; bytes: Uint8Array }
  | { kind: 'transfer-pooled'; bytes: Uint8Array };

/** The acknowledgement; a pooled buffer travels back in it. */
export interface IpcBenchAck {
  sum: number;
  bytes?: Uint8Array;
}

/**
 * Reads one byte per 64-byte cache line (and the last byte), so every line of the batch is pulled into this
 * core, as appending it would (CRC, write), without the benchmark measuring a CRC.
 */
export function touch(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 64) sum = (sum + bytes[i]!) | 0;
  return bytes.length === 0 ? sum : (sum + bytes[bytes.length - 1]!) | 0;
}

let ring: RingReader | null = null;
const port = parentPort;

port?.on('message', (message: IpcBenchMessage) => {
  switch (message.kind) {
    case 'open-ring':
      ring = openRing(message.sab);
      port.postMessage({ sum: 0 } satisfies IpcBenchAck);
      return;
    case 'ring': {
      const sum = touch(ring!.view(message.slot));
      ring!.release(message.slot);
      port.postMessage({ sum } satisfies IpcBenchAck);
      return;
    }
    case 'clone':
    case 'transfer':
      port.postMessage({ sum: touch(message.bytes) } satisfies IpcBenchAck);
      return;
    case 'transfer-pooled':
      port.postMessage({ sum: touch(message.bytes), bytes: message.bytes } satisfies IpcBenchAck, [
        message.bytes.buffer as ArrayBuffer,
      ]);
      return;
  }
});
