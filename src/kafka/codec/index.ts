/**
 * @module
 * The Kafka wire codec: bytes ↔ objects, no I/O. Descriptors and message types live in
 * `../generated/messages.ts`.
 */
export * from './descriptor.ts';
export * from './frame.ts';
export * from './message-codec.ts';
export * from './reader.ts';
export * from './writer.ts';
