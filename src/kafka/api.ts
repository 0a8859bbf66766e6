/**
 * @module
 * What one Kafka API is to the TCP front door: the versions it serves and a handler from a decoded request
 * to a response body. One API per file in `apis/` (`apis/produce.ts`, ...), each listed in `apis/index.ts`;
 * ApiVersions answers from that list, so only what is implemented is advertised.
 *
 * Handlers map BrokerErrors to the error-code fields of their response (per partition, per topic or top
 * level, as the API has them) with `errorCode()`; a handler that throws means the request could not be
 * answered at all, and the server closes that connection (what Kafka does with a request it cannot read).
 */
import type { Engine } from '../ipc/engine.ts';
import { asBrokerError, ERRORS } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import type { RequestByApiKey, ResponseByApiKey } from './generated/messages.ts';

export interface KafkaDoorConfig {
  /** The broker's node id in Metadata answers (a single broker: 0). */
  nodeId: number;
  /** Host and port clients are told to connect to (`--kafka-advertised-host/-port`). */
  advertisedHost: string;
  advertisedPort: number;
  clusterId: string;
  /** The longest a Fetch may wait (`--max-wait-ms`), whatever max_wait_ms the client asks for. */
  maxFetchWaitMs: number;
  /** Largest request frame accepted (`--max-request-bytes`); a larger one closes the connection. */
  maxRequestBytes: number;
}

export interface KafkaContext {
  engine: Engine;
  config: Readonly<KafkaDoorConfig>;
  logger: Logger;
  /** From the request header. */
  clientId: string | null;
  /** The peer's address. */
  clientHost: string;
}

export interface KafkaApi<K extends keyof RequestByApiKey & keyof ResponseByApiKey> {
  apiKey: K;
  /** Served versions, inclusive. */
  minVersion: number;
  maxVersion: number;
  /** The response body, or null for no response at all (Produce with acks=0). */
  handle(
    request: RequestByApiKey[K],
    version: number,
    ctx: KafkaContext,
  ): Promise<ResponseByApiKey[K] | null>;
}

/** Any API of the list (the server looks them up by key). */
// biome-ignore lint/suspicious/noExplicitAny: the list holds APIs of every key
export type AnyKafkaApi = KafkaApi<any>;

/** The Kafka error code of anything thrown (UNKNOWN_SERVER_ERROR, -1, for what is not a BrokerError). */
export function errorCode(err: unknown): number {
  return ERRORS[asBrokerError(err).code].code;
}

/** The message to put in an `errorMessage` field, where the response has one. */
export function errorMessage(err: unknown): string {
  return asBrokerError(err).message;
}
