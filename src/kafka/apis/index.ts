/**
 * @module
 * Every Kafka API the broker serves; ApiVersions advertises exactly this list. Add an API by importing its
 * module and appending it here, one line each (a plain array, so parallel additions merge trivially).
 */
import type { AnyKafkaApi } from '../api.ts';
import { alterConfigsApi } from './alter-configs.ts';
import { apiVersionsApi } from './api-versions.ts';
import { createPartitionsApi } from './create-partitions.ts';
import { createTopicsApi } from './create-topics.ts';
import { deleteGroupsApi } from './delete-groups.ts';
import { deleteRecordsApi } from './delete-records.ts';
import { deleteTopicsApi } from './delete-topics.ts';
import { describeClusterApi } from './describe-cluster.ts';
import { describeConfigsApi } from './describe-configs.ts';
import { describeGroupsApi } from './describe-groups.ts';
import { fetchApi } from './fetch.ts';
import { findCoordinatorApi } from './find-coordinator.ts';
import { heartbeatApi } from './heartbeat.ts';
import { incrementalAlterConfigsApi } from './incremental-alter-configs.ts';
import { joinGroupApi } from './join-group.ts';
import { leaveGroupApi } from './leave-group.ts';
import { listGroupsApi } from './list-groups.ts';
import { listOffsetsApi } from './list-offsets.ts';
import { metadataApi } from './metadata.ts';
import { offsetCommitApi } from './offset-commit.ts';
import { offsetFetchApi } from './offset-fetch.ts';
import { produceApi } from './produce.ts';
import { syncGroupApi } from './sync-group.ts';

// biome-ignore format: one API per line, so additions merge line by line
export const KAFKA_APIS: AnyKafkaApi[] = [
  apiVersionsApi,
  metadataApi,
  offsetCommitApi,
  offsetFetchApi,
  findCoordinatorApi,
  joinGroupApi,
  heartbeatApi,
  leaveGroupApi,
  syncGroupApi,
  describeGroupsApi,
  listGroupsApi,
  deleteGroupsApi,
  produceApi,
  fetchApi,
  listOffsetsApi,
  createTopicsApi,
  deleteTopicsApi,
  deleteRecordsApi,
  describeConfigsApi,
  alterConfigsApi,
  createPartitionsApi,
  incrementalAlterConfigsApi,
  describeClusterApi,
];
