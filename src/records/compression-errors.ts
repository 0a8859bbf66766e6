/**
 * @module
 * The errors the codecs raise, with the codec's name in the message (shared by compression.ts and
 * zstd-napi-codec.ts).
 */
import { BrokerError } from '../shared/errors.ts';
import type { CompressionType } from './batch-header.ts';

const CODEC_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

function codecName(type: number): string {
  return CODEC_NAMES[type] ?? `codec ${type}`;
}

export function unsupported(type: number): BrokerError {
  return new BrokerError('UNSUPPORTED_COMPRESSION_TYPE', `unsupported compression type ${type}`);
}

export function corrupt(type: CompressionType, reason: string, cause?: unknown): BrokerError {
  return new BrokerError('CORRUPT_MESSAGE', `${codecName(type)} data is corrupt: ${reason}`, { cause });
}

export function tooLarge(type: CompressionType, maxBytes: number): BrokerError {
  return new BrokerError(
    'CORRUPT_MESSAGE',
    `${codecName(type)} data decompresses to more than the ${maxBytes}-byte limit`,
  );
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
