/**
 * @module
 * Installs the native CRC-32C (`@node-rs/crc32`, SSE4.2/ARMv8 instructions) for server code. Importing
 * this module is the switch; the client never imports it, so it stays portable.
 */
import { crc32c as nativeCrc32c } from '@node-rs/crc32';
import { useCrc32c } from './crc32c.ts';

useCrc32c((data, initial = 0) => {
  // The binding needs a Buffer view; wrapping shares memory, it does not copy.
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return nativeCrc32c(buf, initial) >>> 0;
});
