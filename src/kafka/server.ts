/**
 * @module
 * The Kafka protocol's TCP front door on Bun's socket API (`Bun.listen`). Each connection is a
 * `KafkaConnection` (framing, in-order responses, back-pressure: see connection.ts) whose frames go to the
 * request handler built here: decode the header and body with the generated codecs, call the API's handler
 * with a `KafkaContext`, encode the response frame and hand its chunks over (record batches by reference).
 *
 * What closes a connection (that connection only; the broker and other connections carry on):
 * - a frame size below 0 or above `maxRequestBytes`, an unknown API key, a version not served, a frame the
 *   codec cannot read: logged at debug, as Kafka does, since a misbehaving client could fill the log;
 * - a handler that throws, or a response that cannot be encoded: logged as a warning (a bug here).
 * The exception: an ApiVersions request of a version not served is answered in the v0 layout with
 * UNSUPPORTED_VERSION and the served list, so the client can retry with a version it finds there.
 *
 * Every handler's context also carries the served list (`ServedApis`, for ApiVersions).
 */
import type { Engine } from '../ipc/engine.ts';
import { ERRORS } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import type { AnyKafkaApi, KafkaContext, KafkaDoorConfig } from './api.ts';
import { API_VERSIONS_KEY, apiVersionsResponse, type ServedApis } from './apis/api-versions.ts';
import { encodeResponseFrame, type ParsedRequest, parseRequest, peekRequestHeader } from './codec/frame.ts';
import { type FrameHandler, KafkaConnection, type Transport } from './connection.ts';

export interface KafkaServerOptions {
  engine: Engine;
  /** The door's settings; `advertisedPort` 0 means the port actually bound. */
  config: KafkaDoorConfig;
  /** Address to bind (`--host`). */
  host: string;
  /** Port to bind (`--kafka-port`); 0 picks a free one. */
  port: number;
  logger: Logger;
  /** The APIs served, at most one per key. */
  apis: readonly AnyKafkaApi[];
  /** Requests handled at once per connection; default 100. */
  maxInFlightRequests?: number;
  /** How long `stop()` lets in-flight responses finish before closing connections anyway; default 5 s. */
  shutdownTimeoutMs?: number;
}

export interface KafkaServer {
  /** The port bound. */
  port: number;
  /** The settings handlers see (with the advertised port filled in). */
  config: Readonly<KafkaDoorConfig>;
  /** Stops accepting, lets in-flight requests be answered (up to the shutdown timeout), closes every connection. */
  stop(): Promise<void>;
}

const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5_000;

/** The host Kafka clients are told to connect to: the one configured, else the bound one unless it is a wildcard. */
export function advertisedKafkaHost(host: string, advertised: string | null): string {
  if (advertised !== null) return advertised;
  return host === '0.0.0.0' || host === '::' || host === '[::]' ? '127.0.0.1' : host;
}

/** `host:port`, with brackets around an IPv6 address. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

interface SocketState {
  connection: KafkaConnection | null;
}

/** Binds the listener (throws, e.g. EADDRINUSE, when it cannot) and serves until `stop()`. */
export async function startKafkaServer(options: KafkaServerOptions): Promise<KafkaServer> {
  const { engine, logger, apis } = options;
  const byKey = new Map<number, AnyKafkaApi>();
  for (const api of apis) {
    if (byKey.has(api.apiKey)) throw new Error(`two Kafka APIs are listed for key ${api.apiKey}`);
    if (api.minVersion > api.maxVersion) throw new Error(`Kafka API ${api.apiKey}: min version above max`);
    byKey.set(api.apiKey, api);
  }
  const connections = new Set<KafkaConnection>();
  // Filled in once the port is known, before any connection can be accepted.
  let config: Readonly<KafkaDoorConfig> = Object.freeze({ ...options.config });
  const limits = {
    maxRequestBytes: options.config.maxRequestBytes,
    maxInFlightRequests: options.maxInFlightRequests,
  };

  const listener = Bun.listen<SocketState>({
    hostname: options.host,
    port: options.port,
    socket: {
      binaryType: 'uint8array',
      open(socket) {
        socket.setNoDelay(true);
        const peer = hostPort(socket.remoteAddress, socket.remotePort);
        const transport: Transport = {
          write: (bytes) => socket.write(bytes),
          pause: () => socket.pause(),
          resume: () => socket.resume(),
          end: () => socket.end(),
          terminate: () => socket.terminate(),
        };
        const handler = createRequestHandler({
          apis,
          byKey,
          engine,
          logger,
          config: () => config,
          clientHost: socket.remoteAddress,
        });
        const connection = new KafkaConnection(transport, handler, limits, logger, peer);
        socket.data = { connection };
        connections.add(connection);
      },
      data(socket, chunk) {
        guard(socket, () => socket.data.connection?.receive(chunk));
      },
      drain(socket) {
        guard(socket, () => socket.data.connection?.writable());
      },
      close(socket) {
        const connection = socket.data?.connection;
        if (!connection) return;
        connection.closed();
        connections.delete(connection);
      },
      error(socket, error) {
        logger.debug('Kafka connection error', { error: String(error) });
        socket.data?.connection?.abort(String(error), true);
      },
    },
  });
  config = Object.freeze({
    ...options.config,
    advertisedPort: options.config.advertisedPort || listener.port,
  });

  /** Nothing thrown while handling socket events may reach Bun (or the broker). */
  function guard(socket: { data: SocketState }, work: () => void): void {
    try {
      work();
    } catch (err) {
      logger.warn('unexpected error on a Kafka connection; closing it', { error: String(err) });
      socket.data.connection?.abort(String(err), true);
    }
  }

  let stopping: Promise<void> | null = null;
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  return {
    port: listener.port,
    get config() {
      return config;
    },
    stop() {
      stopping ??= (async () => {
        listener.stop(false);
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timedOut = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, shutdownTimeoutMs);
        });
        await Promise.race([Promise.all([...connections].map((c) => c.shutdown())), timedOut]);
        clearTimeout(timer);
        for (const connection of connections) connection.abort('the broker is shutting down', true);
        connections.clear();
        listener.stop(true);
      })();
      return stopping;
    },
  };
}

interface HandlerDeps {
  apis: readonly AnyKafkaApi[];
  byKey: ReadonlyMap<number, AnyKafkaApi>;
  engine: Engine;
  logger: Logger;
  config: () => Readonly<KafkaDoorConfig>;
  clientHost: string;
}

/**
 * The request handler of one connection. Decoding happens synchronously, so an unreadable frame closes the
 * connection before any later frame is started.
 */
export function createRequestHandler(deps: HandlerDeps): FrameHandler {
  const { byKey, logger } = deps;
  const isSupported = (apiKey: number, apiVersion: number) => {
    const api = byKey.get(apiKey);
    return api !== undefined && apiVersion >= api.minVersion && apiVersion <= api.maxVersion;
  };
  return (frame) => {
    const peek = peekRequestHeader(frame);
    if (peek && peek.apiKey === API_VERSIONS_KEY && byKey.has(API_VERSIONS_KEY)) {
      if (!isSupported(API_VERSIONS_KEY, peek.apiVersion)) {
        logger.debug('ApiVersions of an unsupported version: answering with UNSUPPORTED_VERSION', {
          version: peek.apiVersion,
          clientHost: deps.clientHost,
        });
        const body = apiVersionsResponse(deps.apis, ERRORS.UNSUPPORTED_VERSION.code);
        return Promise.resolve(encodeResponseFrame(API_VERSIONS_KEY, 0, peek.correlationId, body).finish());
      }
    }
    let request: ParsedRequest;
    try {
      request = parseRequest(frame, { isSupported });
    } catch (err) {
      logger.debug('closing a Kafka connection: the request cannot be read', {
        clientHost: deps.clientHost,
        apiKey: peek?.apiKey,
        version: peek?.apiVersion,
        error: String(err),
      });
      throw err;
    }
    const ctx: KafkaContext & ServedApis = {
      engine: deps.engine,
      config: deps.config(),
      logger,
      clientId: request.header.clientId ?? null,
      clientHost: deps.clientHost,
      apis: deps.apis,
    };
    return answer(byKey.get(request.apiKey)!, request, ctx);
  };
}

async function answer(
  api: AnyKafkaApi,
  request: ParsedRequest,
  ctx: KafkaContext & ServedApis,
): Promise<Uint8Array[] | null> {
  const where = {
    apiKey: request.apiKey,
    version: request.apiVersion,
    clientId: ctx.clientId,
    clientHost: ctx.clientHost,
  };
  let body: unknown;
  try {
    body = await api.handle(request.body, request.apiVersion, ctx);
  } catch (err) {
    ctx.logger.warn('a Kafka request handler failed; closing the connection', {
      ...where,
      error: String(err),
    });
    throw err;
  }
  if (body === null) return null;
  try {
    return encodeResponseFrame(
      request.apiKey,
      request.apiVersion,
      request.correlationId,
      body as never,
    ).finish();
  } catch (err) {
    ctx.logger.warn('a Kafka response cannot be encoded; closing the connection', {
      ...where,
      error: String(err),
    });
    throw err;
  }
}
