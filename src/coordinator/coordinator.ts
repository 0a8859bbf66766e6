/**
 * @module
 * Everything the coordinator worker owns, behind one object: topic metadata (TopicRegistry) and consumer
 * groups (GroupCoordinator). Topic changes go through here so that groups subscribed to a topic rebalance
 * when it is created, grows or goes away. The worker serves this over RPC; the in-process engine calls it
 * directly. Owning thread only.
 */
import type { TopicConfigChanges, TopicConfigEntries } from '../ipc/engine.ts';
import type {
  CommittedOffset,
  GroupApi,
  GroupDescription,
  GroupOverview,
  GroupState,
  HeartbeatRequest,
  JoinGroupRequest,
  JoinGroupResponse,
  LeaveGroupRequest,
  OffsetCommitRequest,
  OffsetFetchRequest,
  SyncGroupRequest,
  SyncGroupResponse,
} from './group-api.ts';
import type { GroupCoordinator } from './group-coordinator.ts';
import type { TopicRecord, TopicRegistry, TopicStore } from './topic-registry.ts';

/** Per group, what metrics need: members, rebalances and the committed offsets (lag is computed by the engine). */
export interface GroupCounts {
  groupId: string;
  state: GroupState;
  members: number;
  rebalances: number;
  offsets: CommittedOffset[];
}

/** What the engine asks of the coordinator: topic metadata and groups. */
export interface CoordinatorStore extends TopicStore, GroupApi {
  groupCounts(): Promise<GroupCounts[]>;
  /** Shutdown, first step: waiting joins and syncs answer at once. */
  stopWaiting(): Promise<void>;
  /** Answers waiting joins, finishes queued writes and closes `__consumer_offsets`. */
  close(): Promise<void>;
}

/** The methods the coordinator worker serves (the calling side is `RpcClient.proxy<CoordinatorStore>()`). */
export const COORDINATOR_METHODS = [
  'list',
  'create',
  'delete',
  'alter',
  'addPartitions',
  'joinGroup',
  'syncGroup',
  'heartbeat',
  'leaveGroup',
  'commitOffsets',
  'fetchOffsets',
  'listGroups',
  'describeGroup',
  'deleteGroup',
  'groupCounts',
  'stopWaiting',
  'close',
] as const satisfies readonly (keyof Coordinator)[];

export class Coordinator implements CoordinatorStore {
  constructor(
    private readonly registry: TopicRegistry,
    private readonly groups: GroupCoordinator,
  ) {}

  list(): Promise<TopicRecord[]> {
    return this.registry.list();
  }
  async create(
    name: string,
    partitions: number,
    config: TopicConfigEntries,
    topicId?: string,
  ): Promise<TopicRecord> {
    const record = await this.registry.create(name, partitions, config, topicId);
    await this.groups.topicChanged(name);
    return record;
  }
  async delete(name: string): Promise<TopicRecord> {
    const record = await this.registry.delete(name);
    await this.groups.topicChanged(name);
    return record;
  }
  alter(name: string, changes: TopicConfigChanges): Promise<TopicRecord> {
    return this.registry.alter(name, changes);
  }
  async addPartitions(name: string, count: number): Promise<TopicRecord> {
    const record = await this.registry.addPartitions(name, count);
    await this.groups.topicChanged(name);
    return record;
  }

  joinGroup(request: JoinGroupRequest): Promise<JoinGroupResponse> {
    return this.groups.joinGroup(request);
  }
  syncGroup(request: SyncGroupRequest): Promise<SyncGroupResponse> {
    return this.groups.syncGroup(request);
  }
  heartbeat(request: HeartbeatRequest): Promise<void> {
    return this.groups.heartbeat(request);
  }
  leaveGroup(request: LeaveGroupRequest): Promise<void> {
    return this.groups.leaveGroup(request);
  }
  commitOffsets(request: OffsetCommitRequest): Promise<void> {
    return this.groups.commitOffsets(request);
  }
  fetchOffsets(request: OffsetFetchRequest): Promise<CommittedOffset[]> {
    return this.groups.fetchOffsets(request);
  }
  listGroups(): Promise<GroupOverview[]> {
    return this.groups.listGroups();
  }
  describeGroup(groupId: string): Promise<GroupDescription> {
    return this.groups.describeGroup(groupId);
  }
  deleteGroup(groupId: string): Promise<void> {
    return this.groups.deleteGroup(groupId);
  }
  async groupCounts(): Promise<GroupCounts[]> {
    return this.groups.stats();
  }
  stopWaiting(): Promise<void> {
    return this.groups.stopWaiting();
  }
  close(): Promise<void> {
    return this.groups.close();
  }
}
