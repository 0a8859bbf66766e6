/**
 * @module
 * `LeaderRouter`: which broker a request goes to. In a cluster each partition has a leader, and only the
 * leader produces, fetches and looks up offsets for it; other brokers answer NOT_LEADER_OR_FOLLOWER (503).
 *
 * Requests for a partition go to its leader's URL once known: the leader's node id comes from the topic's
 * description (`GET /v1/topics/{topic}`, cached per topic) and its address from `GET /v1/cluster`
 * (`http://<host>:<httpPort>`, cached per node id). A request that fails with one of STALE_CODES marks its
 * topic's leaders stale; the next request for the topic looks them up again, from any known broker that
 * answers (the current one first, brokers that just failed last). Requests for no partition (topics,
 * groups) go to the current broker, which moves to the next known one when it does not answer.
 *
 * On a single broker the descriptions carry no leader, so nothing is looked up: every request goes to the
 * one URL, exactly as without a router. The router only turns to leaders once it has seen one (a leader in
 * a description, a NOT_LEADER_OR_FOLLOWER) or was given several bootstrap URLs.
 */
import { FreshetError } from './errors.ts';
import type { TopicDescription } from './types.ts';

/** Errors after which a partition's cached leader is not trusted (leadership moved, or it is down). */
const STALE_CODES: ReadonlySet<string> = new Set([
  'NOT_LEADER_OR_FOLLOWER',
  'LEADER_NOT_AVAILABLE',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'REPLICA_NOT_AVAILABLE',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'NETWORK_EXCEPTION',
  'REQUEST_TIMED_OUT',
]);

/** Errors that say nothing answered at that address. */
const UNREACHABLE_CODES: ReadonlySet<string> = new Set(['NETWORK_EXCEPTION', 'REQUEST_TIMED_OUT']);

/** A GET of `path` at the broker `baseUrl`, decoded; rejects with a FreshetError. */
export type MetadataRequest = <T>(baseUrl: string, path: string) => Promise<T>;

/** A broker as `GET /v1/cluster` lists it, as far as routing reads it. */
export interface BrokerAddress {
  nodeId: number;
  host: string;
  httpPort: number;
}

interface ClusterAnswer {
  brokers?: BrokerAddress[];
}

interface TopicRoute {
  /** Leader node id by partition (-1: none elected); empty when the broker gave no leaders (single broker). */
  leaders: Map<number, number>;
  /** Set by a failed request: look the leaders up again before the next request. */
  stale: boolean;
}

/** A base URL without trailing slashes, so paths append cleanly. */
export function normalizeUrl(url: string): string {
  return url.trim().replace(/\/+$/, '');
}

/** A listed broker's HTTP address, with the scheme of the broker that listed it (`http:` by default). */
export function brokerUrl(broker: BrokerAddress, listedBy?: string): string {
  let scheme = 'http:';
  if (listedBy !== undefined) {
    try {
      scheme = new URL(listedBy).protocol;
    } catch {
      // Not a URL: keep http.
    }
  }
  const host = broker.host.includes(':') && !broker.host.startsWith('[') ? `[${broker.host}]` : broker.host;
  return `${scheme}//${host}:${broker.httpPort}`;
}

export class LeaderRouter {
  private readonly seeds: string[];
  private readonly fetchMetadata: MetadataRequest;
  /** Broker addresses by node id, from `GET /v1/cluster`. */
  private nodes = new Map<number, string>();
  private current: string;
  /** Brokers whose last request got no answer: asked last for metadata, skipped as the current broker. */
  private readonly unreachable = new Set<string>();
  private readonly topics = new Map<string, TopicRoute>();
  private readonly pending = new Map<string, Promise<void>>();
  /** True once leaders matter: a description named one, a broker answered NOT_LEADER_OR_FOLLOWER, or several seeds were given. */
  private clustered: boolean;

  /** `seeds`: the bootstrap URLs, at least one, normalized. */
  constructor(seeds: string[], fetchMetadata: MetadataRequest) {
    if (seeds.length === 0) throw new FreshetError('INVALID_REQUEST', 'no broker URL given');
    this.seeds = [...new Set(seeds)];
    this.current = this.seeds[0]!;
    this.clustered = this.seeds.length > 1;
    this.fetchMetadata = fetchMetadata;
  }

  /** The broker that requests for no particular partition go to. */
  get url(): string {
    return this.current;
  }

  /** Every broker known: the seeds, then those `GET /v1/cluster` listed. */
  knownBrokers(): string[] {
    return [...new Set([...this.seeds, ...this.nodes.values()])];
  }

  /**
   * The base URL for a request on `topic`/`partition`: its leader's, looking leaders and addresses up
   * first when they are not known (or stale); the current broker when the topic names no leaders or is
   * unknown. Rejects with LEADER_NOT_AVAILABLE when no leader is elected or its address is not listed,
   * or with the error of the look-up when no broker answered it.
   */
  urlFor(topic: string, partition: number): string | Promise<string> {
    if (!this.clustered) return this.current;
    const known = this.cached(topic, partition, false);
    if (known !== undefined) return known;
    return this.refresh(topic).then(() => this.cached(topic, partition, true)!);
  }

  /**
   * Takes the leaders of a description obtained elsewhere (Admin.describeTopic, the producer's metadata),
   * so that no separate look-up is needed.
   */
  learn(description: TopicDescription): void {
    const leaders = new Map<number, number>();
    for (const state of description.partitions ?? []) {
      if (typeof state.leader === 'number') leaders.set(state.partition, state.leader);
    }
    if (leaders.size > 0) this.clustered = true;
    this.topics.set(description.name, { leaders, stale: false });
  }

  /**
   * Reports a failed request sent to `baseUrl` (for a partition of `topic`, when it was for one): a broker
   * that did not answer is tried last from now on, and a leader-related error marks the topic's leaders stale.
   */
  failed(baseUrl: string, err: FreshetError, topic?: string): void {
    if (UNREACHABLE_CODES.has(err.code)) this.markUnreachable(baseUrl);
    if (err.code === 'NOT_LEADER_OR_FOLLOWER') this.clustered = true;
    if (topic !== undefined && this.clustered && STALE_CODES.has(err.code)) {
      const route = this.topics.get(topic);
      if (route !== undefined) route.stale = true;
    }
  }

  /** Reports an answer from `baseUrl`: it is reachable again. */
  reached(baseUrl: string): void {
    if (this.unreachable.size > 0) this.unreachable.delete(baseUrl);
  }

  /**
   * The cached leader URL; undefined when it must be looked up. With `final` (right after a look-up) it
   * never answers undefined: no leader is LEADER_NOT_AVAILABLE, and a topic without leaders goes to the
   * current broker, which then answers for itself (UNKNOWN_TOPIC_OR_PARTITION, or auto-creation).
   */
  private cached(topic: string, partition: number, final: boolean): string | undefined {
    const route = this.topics.get(topic);
    if (route === undefined) return final ? this.current : undefined;
    if (route.stale && !final) return undefined;
    const leader = route.leaders.get(partition);
    if (leader === undefined) return route.leaders.size === 0 || final ? this.current : undefined;
    const url = leader < 0 ? undefined : this.nodes.get(leader);
    if (url !== undefined) return url;
    if (!final) {
      // No leader elected when last looked: look again (an address missing is looked up without this).
      if (leader < 0) route.stale = true;
      return undefined;
    }
    // Look again on the next request: an election or a registration may be under way.
    route.stale = true;
    throw new FreshetError(
      'LEADER_NOT_AVAILABLE',
      leader < 0
        ? `${topic}/${partition}: no leader is elected`
        : `${topic}/${partition}: its leader, node ${leader}, is not among the brokers listed`,
      { retriable: true },
    );
  }

  /** Looks the topic's leaders (and any unknown leader's address) up; one look-up at a time per topic. */
  private refresh(topic: string): Promise<void> {
    let pending = this.pending.get(topic);
    if (pending === undefined) {
      pending = this.load(topic).finally(() => this.pending.delete(topic));
      this.pending.set(topic, pending);
    }
    return pending;
  }

  private async load(topic: string): Promise<void> {
    let route = this.topics.get(topic);
    if (route === undefined || route.stale) {
      try {
        this.learn(await this.fromAnyBroker<TopicDescription>(`/v1/topics/${encodeURIComponent(topic)}`));
      } catch (err) {
        // No such topic: the request goes to the current broker, whose answer says so (or creates it).
        if (!(err instanceof FreshetError) || err.code !== 'UNKNOWN_TOPIC_OR_PARTITION') throw err;
        this.topics.delete(topic);
        return;
      }
      route = this.topics.get(topic)!;
    }
    const unlisted = [...route.leaders.values()].some((leader) => leader >= 0 && !this.nodes.has(leader));
    if (unlisted) await this.loadBrokers();
  }

  private async loadBrokers(): Promise<void> {
    let listedBy = this.current;
    const answer = await this.fromAnyBroker<ClusterAnswer>('/v1/cluster', (base) => {
      listedBy = base;
    });
    const nodes = new Map<number, string>();
    for (const broker of answer.brokers ?? []) nodes.set(broker.nodeId, brokerUrl(broker, listedBy));
    if (nodes.size > 0) this.nodes = nodes;
  }

  /**
   * `GET path` from the current broker, else from the other known ones in turn (those that just failed
   * last); the first that answers becomes the current broker. Errors other than "no answer" and 5xx are
   * the answer, not a reason to ask elsewhere.
   */
  private async fromAnyBroker<T>(path: string, answeredBy?: (base: string) => void): Promise<T> {
    const brokers = [this.current, ...this.knownBrokers().filter((url) => url !== this.current)];
    const ordered = [
      ...brokers.filter((url) => !this.unreachable.has(url)),
      ...brokers.filter((url) => this.unreachable.has(url)),
    ];
    let last: unknown;
    for (const base of ordered) {
      try {
        const answer = await this.fetchMetadata<T>(base, path);
        this.unreachable.delete(base);
        this.current = base;
        answeredBy?.(base);
        return answer;
      } catch (err) {
        if (!(err instanceof FreshetError)) throw err;
        if (!UNREACHABLE_CODES.has(err.code) && err.status < 500) throw err;
        if (UNREACHABLE_CODES.has(err.code)) this.unreachable.add(base);
        last = err;
      }
    }
    throw last;
  }

  /** Tries `baseUrl` last from now on; when it is the current broker, the next known one takes over. */
  private markUnreachable(baseUrl: string): void {
    this.unreachable.add(baseUrl);
    if (baseUrl !== this.current) return;
    const brokers = this.knownBrokers();
    const start = brokers.indexOf(baseUrl);
    for (let i = 1; i <= brokers.length; i++) {
      const next = brokers[(start + i) % brokers.length]!;
      if (next !== baseUrl && !this.unreachable.has(next)) {
        this.current = next;
        return;
      }
    }
  }
}
