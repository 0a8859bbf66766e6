/**
 * @module
 * DescribeGroups (key 15), versions 0–5: state, protocol and members (with their metadata and assignment
 * bytes) per group. A group the coordinator does not know is described as Dead with no error, as Kafka does.
 *
 *   request  groups[], includeAuthorizedOperations (v3+)
 *   response throttleTimeMs (v1+), groups[{errorCode, groupId, groupState, protocolType, protocolData,
 *            members[{memberId, groupInstanceId (v4+), clientId, clientHost, memberMetadata,
 *            memberAssignment}], authorizedOperations (v3+)}]
 */
import { BrokerError } from '../../shared/errors.ts';
import { errorCode, type KafkaApi } from '../api.ts';

/** Kafka's "not computed" value of authorizedOperations (no ACLs yet). */
const NO_OPERATIONS = -2147483648;

export const describeGroupsApi: KafkaApi<15> = {
  apiKey: 15,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, _version, ctx) {
    const groups = [];
    for (const groupId of request.groups) {
      try {
        const group = await ctx.engine.describeGroup(groupId);
        groups.push({
          errorCode: 0,
          groupId,
          groupState: group.state,
          protocolType: group.protocolType,
          protocolData: group.protocolName,
          members: group.members.map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            clientId: m.clientId,
            clientHost: m.clientHost,
            memberMetadata: m.metadata,
            memberAssignment: m.assignmentBytes,
          })),
          authorizedOperations: NO_OPERATIONS,
        });
      } catch (err) {
        const dead = err instanceof BrokerError && err.code === 'GROUP_ID_NOT_FOUND';
        groups.push({
          errorCode: dead ? 0 : errorCode(err),
          groupId,
          groupState: 'Dead',
          protocolType: '',
          protocolData: '',
          members: [],
          authorizedOperations: NO_OPERATIONS,
        });
      }
    }
    return { throttleTimeMs: 0, groups };
  },
};
