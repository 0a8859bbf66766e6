/**
 * @module
 * Topic ids: Kafka's `Uuid`, 16 random bytes given to a topic when it is created and never reused, so a
 * topic deleted and created again under the same name is told apart (Metadata v10+, Fetch v13+, ...).
 *
 * Format: the Kafka codec's form, a lowercase `8-4-4-4-12` hex string of the 16 bytes (what goes on the
 * wire as 16 raw bytes, what topics.json and the HTTP API show). Kafka's tools print the same 16 bytes as
 * unpadded base64url (`topicIdToBase64Url`).
 *
 * Like Kafka's `Uuid.randomUuid()`, an id is a random (version 4) UUID that is neither one of the reserved
 * ids (the zero UUID, "no id", and Kafka's metadata topic id 0…01) nor one whose base64url form starts with
 * '-' (a command-line tool would take it for an option).
 */
import { randomUUID } from 'node:crypto';

/** Kafka's `Uuid.ZERO_UUID`: no topic id (what a request without ids carries). */
export const ZERO_TOPIC_ID = '00000000-0000-0000-0000-000000000000';
/** Kafka's `Uuid.METADATA_TOPIC_ID`, reserved for its own `__cluster_metadata` topic. */
export const METADATA_TOPIC_ID = '00000000-0000-0000-0000-000000000001';

const TOPIC_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A new topic id, as described at the top of the file. */
export function newTopicId(): string {
  for (;;) {
    const id = randomUUID();
    if (isAssignableTopicId(id) && !topicIdToBase64Url(id).startsWith('-')) return id;
  }
}

/** True for a well-formed (lowercase) id that is not reserved: what a stored topic may carry. */
export function isAssignableTopicId(id: unknown): id is string {
  return (
    typeof id === 'string' && TOPIC_ID_PATTERN.test(id) && id !== ZERO_TOPIC_ID && id !== METADATA_TOPIC_ID
  );
}

/** The 16 bytes of `id` as Kafka's tools print them: base64url without padding (22 characters). */
export function topicIdToBase64Url(id: string): string {
  return Buffer.from(id.replaceAll('-', ''), 'hex').toString('base64url');
}
