/**
 * @module
 * DescribeCluster (API key 60), versions 0–1 (flexible from 0): the brokers as Metadata lists them (a
 * single broker: itself; a cluster: the live brokers with a Kafka listener), and this broker as the
 * controller (see metadata.ts).
 *
 * Message shape (versions served):
 *   request   includeClusterAuthorizedOperations bool, endpointType int8 (v1+: 1 brokers, 2 controllers)
 *   response  throttleTimeMs, errorCode, errorMessage, endpointType (v1+), clusterId, controllerId,
 *             brokers [brokerId, host, port, rack], clusterAuthorizedOperations int32
 *
 * Endpoint types as Kafka's brokers answer them: a request for controllers sent to a broker is
 * MISMATCHED_ENDPOINT_TYPE, an unknown type UNSUPPORTED_ENDPOINT_TYPE (both INVALID_REQUEST in v0).
 * Freshet has no ACLs, so a client asking for its authorized operations is allowed every operation Kafka
 * defines on a cluster (what Kafka reports when no authorizer is configured).
 */
import { ERRORS } from '../../shared/errors.ts';
import type { KafkaApi } from '../api.ts';
import type { DescribeClusterResponse } from '../generated/messages.ts';
import { kafkaBrokers } from './metadata.ts';

const ENDPOINT_BROKERS = 1;
const ENDPOINT_CONTROLLERS = 2;

/** Kafka's AclOperation codes that apply to the cluster resource. */
const CLUSTER_OPERATIONS = {
  CREATE: 5,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
};
/** The schema's "not asked for" value. */
const OPERATIONS_OMITTED = -2147483648;

export const describeClusterApi: KafkaApi<60> = {
  apiKey: 60,
  minVersion: 0,
  maxVersion: 1,
  async handle(request, version, ctx) {
    const { config } = ctx;
    const endpointType = request.endpointType ?? ENDPOINT_BROKERS;
    const answer: DescribeClusterResponse = {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      endpointType,
      clusterId: config.clusterId,
      controllerId: ctx.engine.controllerId() ?? config.nodeId,
      brokers: [],
      clusterAuthorizedOperations: OPERATIONS_OMITTED,
    };
    if (endpointType !== ENDPOINT_BROKERS) {
      const known = endpointType === ENDPOINT_CONTROLLERS;
      const code =
        version === 0 ? 'INVALID_REQUEST' : known ? 'MISMATCHED_ENDPOINT_TYPE' : 'UNSUPPORTED_ENDPOINT_TYPE';
      return {
        ...answer,
        errorCode: ERRORS[code].code,
        errorMessage: known
          ? 'this is a broker endpoint; Freshet has no separate controller endpoint'
          : `unsupported endpoint type ${endpointType}`,
        controllerId: -1,
      };
    }
    answer.brokers = kafkaBrokers(ctx).map(({ nodeId, host, port, rack }) => ({
      brokerId: nodeId,
      host,
      port,
      rack,
    }));
    if (request.includeClusterAuthorizedOperations) {
      answer.clusterAuthorizedOperations = Object.values(CLUSTER_OPERATIONS).reduce(
        (bits, op) => bits | (1 << op),
        0,
      );
    }
    return answer;
  },
};
