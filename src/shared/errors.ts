/**
 * @module
 * The one catalogue of error codes. Names and numbers are Kafka's (see Kafka's `Errors.java`), so the HTTP
 * API, the Kafka wire protocol and the client all speak the same vocabulary. Throw `BrokerError(code)`;
 * map errors to responses only at the edges (the HTTP error handler, the Kafka API handlers).
 */

export const ERRORS = {
  UNKNOWN_SERVER_ERROR: { code: -1, retriable: false, http: 500 },
  NONE: { code: 0, retriable: false, http: 200 },
  OFFSET_OUT_OF_RANGE: { code: 1, retriable: false, http: 416 },
  CORRUPT_MESSAGE: { code: 2, retriable: true, http: 400 },
  UNKNOWN_TOPIC_OR_PARTITION: { code: 3, retriable: true, http: 404 },
  INVALID_FETCH_SIZE: { code: 4, retriable: false, http: 400 },
  LEADER_NOT_AVAILABLE: { code: 5, retriable: true, http: 503 },
  REPLICA_NOT_AVAILABLE: { code: 9, retriable: true, http: 503 },
  // 503, not 421 Misdirected Request: the Fetch standard has clients (Node, Deno, browsers) resend a request
  // answered 421 by themselves, so a produce whose outcome is unknown (leadership moved while it waited
  // for the ISR) would be written again without the caller knowing it retried.
  NOT_LEADER_OR_FOLLOWER: { code: 6, retriable: true, http: 503 },
  REQUEST_TIMED_OUT: { code: 7, retriable: true, http: 504 },
  MESSAGE_TOO_LARGE: { code: 10, retriable: false, http: 413 },
  OFFSET_METADATA_TOO_LARGE: { code: 12, retriable: false, http: 400 },
  NETWORK_EXCEPTION: { code: 13, retriable: true, http: 503 },
  COORDINATOR_LOAD_IN_PROGRESS: { code: 14, retriable: true, http: 503 },
  COORDINATOR_NOT_AVAILABLE: { code: 15, retriable: true, http: 503 },
  NOT_COORDINATOR: { code: 16, retriable: true, http: 503 },
  INVALID_TOPIC_EXCEPTION: { code: 17, retriable: false, http: 400 },
  RECORD_LIST_TOO_LARGE: { code: 18, retriable: false, http: 413 },
  NOT_ENOUGH_REPLICAS: { code: 19, retriable: true, http: 503 },
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: { code: 20, retriable: true, http: 503 },
  INVALID_REQUIRED_ACKS: { code: 21, retriable: false, http: 400 },
  ILLEGAL_GENERATION: { code: 22, retriable: false, http: 409 },
  INCONSISTENT_GROUP_PROTOCOL: { code: 23, retriable: false, http: 409 },
  INVALID_GROUP_ID: { code: 24, retriable: false, http: 400 },
  UNKNOWN_MEMBER_ID: { code: 25, retriable: false, http: 409 },
  INVALID_SESSION_TIMEOUT: { code: 26, retriable: false, http: 400 },
  REBALANCE_IN_PROGRESS: { code: 27, retriable: false, http: 409 },
  INVALID_COMMIT_OFFSET_SIZE: { code: 28, retriable: false, http: 400 },
  INVALID_TIMESTAMP: { code: 32, retriable: false, http: 400 },
  UNSUPPORTED_VERSION: { code: 35, retriable: false, http: 400 },
  TOPIC_ALREADY_EXISTS: { code: 36, retriable: false, http: 409 },
  INVALID_PARTITIONS: { code: 37, retriable: false, http: 400 },
  INVALID_REPLICATION_FACTOR: { code: 38, retriable: false, http: 400 },
  INVALID_REPLICA_ASSIGNMENT: { code: 39, retriable: false, http: 400 },
  INVALID_REQUEST: { code: 42, retriable: false, http: 400 },
  UNSUPPORTED_FOR_MESSAGE_FORMAT: { code: 43, retriable: false, http: 400 },
  POLICY_VIOLATION: { code: 44, retriable: false, http: 400 },
  OUT_OF_ORDER_SEQUENCE_NUMBER: { code: 45, retriable: false, http: 409 },
  DUPLICATE_SEQUENCE_NUMBER: { code: 46, retriable: false, http: 409 },
  INVALID_CONFIG: { code: 40, retriable: false, http: 400 },
  KAFKA_STORAGE_ERROR: { code: 56, retriable: true, http: 500 },
  UNKNOWN_TOPIC_ID: { code: 100, retriable: true, http: 404 },
  FENCED_LEADER_EPOCH: { code: 74, retriable: true, http: 409 },
  UNKNOWN_LEADER_EPOCH: { code: 75, retriable: true, http: 503 },
  UNSUPPORTED_COMPRESSION_TYPE: { code: 76, retriable: false, http: 400 },
  GROUP_ID_NOT_FOUND: { code: 69, retriable: false, http: 404 },
  FETCH_SESSION_ID_NOT_FOUND: { code: 70, retriable: true, http: 404 },
  NON_EMPTY_GROUP: { code: 68, retriable: false, http: 409 },
  MEMBER_ID_REQUIRED: { code: 79, retriable: false, http: 409 },
  GROUP_MAX_SIZE_REACHED: { code: 81, retriable: false, http: 409 },
  FENCED_INSTANCE_ID: { code: 82, retriable: false, http: 409 },
  INVALID_RECORD: { code: 87, retriable: false, http: 400 },
  THROTTLING_QUOTA_EXCEEDED: { code: 89, retriable: true, http: 429 },
  MISMATCHED_ENDPOINT_TYPE: { code: 114, retriable: false, http: 400 },
  UNSUPPORTED_ENDPOINT_TYPE: { code: 115, retriable: false, http: 400 },
} as const satisfies Record<string, { code: number; retriable: boolean; http: number }>;

export type ErrorName = keyof typeof ERRORS;

/** An error with a Kafka error name. Crosses thread boundaries as `{ code, message }` (see `toWire`). */
export class BrokerError extends Error {
  readonly code: ErrorName;

  constructor(code: ErrorName, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BrokerError';
    this.code = code;
  }

  get kafkaCode(): number {
    return ERRORS[this.code].code;
  }

  get retriable(): boolean {
    return ERRORS[this.code].retriable;
  }

  toWire(): WireError {
    return { code: this.code, message: this.message };
  }

  static fromWire(wire: WireError): BrokerError {
    return new BrokerError(isErrorName(wire.code) ? wire.code : 'UNKNOWN_SERVER_ERROR', wire.message);
  }
}

/** The shape an error takes across `postMessage` and in HTTP bodies. */
export interface WireError {
  code: string;
  message: string;
}

export function isErrorName(name: string): name is ErrorName {
  return Object.hasOwn(ERRORS, name);
}

/** Wraps anything thrown into a BrokerError, keeping BrokerErrors as they are. */
export function asBrokerError(err: unknown): BrokerError {
  if (err instanceof BrokerError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new BrokerError('UNKNOWN_SERVER_ERROR', message, { cause: err });
}
