/**
 * @module
 * JoinGroup (key 11), versions 0–9: Kafka's classic join, long-polled in the coordinator until the
 * rebalance completes. Members of a Kafka-client group are leader-assigned (their metadata bytes travel to
 * the leader as they came); the subscription is also read from them (for `consumer` groups) so that
 * describe and lag can show it.
 *
 *   request  groupId, sessionTimeoutMs, rebalanceTimeoutMs (v1+), memberId, groupInstanceId (v5+),
 *            protocolType, protocols[{name, metadata}], reason (v8+)
 *   response throttleTimeMs (v2+), errorCode, generationId, protocolType (v7+), protocolName, leader,
 *            skipAssignment (v9+), memberId, members[{memberId, groupInstanceId (v5+), metadata}]
 *
 * A new member is given its id in the same answer (no MEMBER_ID_REQUIRED round trip, which clients take
 * as optional: they use whatever id the answer carries).
 */
import type { Subscription } from '../../coordinator/group-api.ts';
import { decodeSubscription } from '../../coordinator/group-records.ts';
import { errorCode, type KafkaApi } from '../api.ts';

const EMPTY: Subscription = { topics: [], ownedPartitions: [] };

/** The topics a Kafka consumer's metadata names (other protocol types: none). */
export function readSubscription(protocolType: string, metadata: Uint8Array): Subscription {
  if (protocolType !== 'consumer') return EMPTY;
  try {
    return decodeSubscription(metadata);
  } catch {
    return EMPTY;
  }
}

export const joinGroupApi: KafkaApi<11> = {
  apiKey: 11,
  minVersion: 0,
  maxVersion: 9,
  async handle(request, version, ctx) {
    try {
      const answer = await ctx.engine.joinGroup({
        groupId: request.groupId,
        memberId: request.memberId,
        groupInstanceId: request.groupInstanceId ?? null,
        protocolType: request.protocolType,
        protocols: request.protocols.map((p) => ({
          name: p.name,
          // Copied: the request frame's buffer is not kept after the answer.
          metadata: p.metadata.slice(),
          subscription: readSubscription(request.protocolType, p.metadata),
        })),
        sessionTimeoutMs: request.sessionTimeoutMs,
        // v0 had one timeout for both.
        rebalanceTimeoutMs:
          version >= 1 && (request.rebalanceTimeoutMs ?? -1) > 0
            ? request.rebalanceTimeoutMs!
            : request.sessionTimeoutMs,
        clientId: ctx.clientId ?? '',
        clientHost: ctx.clientHost,
      });
      return {
        throttleTimeMs: 0,
        errorCode: 0,
        generationId: answer.generationId,
        protocolType: answer.protocolType,
        protocolName: answer.protocolName,
        leader: answer.leader,
        skipAssignment: answer.skipAssignment ?? false,
        memberId: answer.memberId,
        members: answer.members.map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          metadata: m.metadata ?? new Uint8Array(0),
        })),
      };
    } catch (err) {
      return {
        throttleTimeMs: 0,
        errorCode: errorCode(err),
        generationId: -1,
        protocolType: null,
        protocolName: version >= 7 ? null : '',
        leader: '',
        skipAssignment: false,
        memberId: request.memberId,
        members: [],
      };
    }
  },
};
