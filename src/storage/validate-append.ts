/**
 * @module
 * The checks every append passes before anything is assigned or written, shared by both PartitionLog
 * implementations so they accept and refuse exactly the same bytes.
 */
import { type BatchHeader, batchSizeAt, checkBatch } from '../records/batch-header.ts';
import { validateRecords } from '../records/record-batch.ts';
import { BrokerError } from '../shared/errors.ts';

/**
 * Validates one or more concatenated RecordBatch v2: size against `maxMessageBytes` (checked before the
 * CRC, so an oversize batch is refused cheaply), structure, CRC-32C and every record. Returns the headers.
 */
export function validateAppend(batches: Uint8Array, maxMessageBytes: number): BatchHeader[] {
  if (batches.length === 0) throw new BrokerError('CORRUPT_MESSAGE', 'append carries no record batch');
  const headers: BatchHeader[] = [];
  let position = 0;
  while (position < batches.length) {
    const size = batchSizeAt(batches, position);
    if (size > maxMessageBytes) {
      throw new BrokerError(
        'MESSAGE_TOO_LARGE',
        `record batch of ${size} bytes exceeds max.message.bytes (${maxMessageBytes})`,
      );
    }
    const header = checkBatch(batches, position);
    validateRecords(batches, position, header);
    headers.push(header);
    position += header.sizeInBytes;
  }
  return headers;
}

/**
 * A follower's append keeps the leader's offsets: the batches must start at `logEndOffset` and follow one
 * another without gaps or overlaps. Throws OFFSET_OUT_OF_RANGE (nothing is written) otherwise.
 */
export function checkFollowerOffsets(headers: readonly BatchHeader[], logEndOffset: number): void {
  let expected = logEndOffset;
  for (const header of headers) {
    if (header.baseOffset !== expected) {
      throw new BrokerError(
        'OFFSET_OUT_OF_RANGE',
        `replicated batch starts at offset ${header.baseOffset}, but the log expects ${expected} next`,
      );
    }
    expected = header.baseOffset + header.lastOffsetDelta + 1;
  }
}
