/**
 * @module
 * Request/response over a worker's message port. A request is `{ id, method, args }`; the answer is
 * `{ id, result }` or `{ id, error: { code, message } }`, and the error is rebuilt as a BrokerError on the
 * calling side. Record batches do not travel here (see ring.ts); only small arguments and results do.
 */
import { asBrokerError, BrokerError, type WireError } from '../shared/errors.ts';

interface RpcRequest {
  id: number;
  method: string;
  args: unknown[];
}

interface RpcResponse {
  id: number;
  result?: unknown;
  error?: WireError;
}

/** The part of a MessagePort / Worker both sides use. */
export interface Port {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

export class RpcClient {
  private readonly port: Port;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private failure: BrokerError | null = null;

  constructor(port: Port) {
    this.port = port;
    port.on('message', (message) => {
      const response = message as RpcResponse;
      const waiter = this.pending.get(response.id);
      if (!waiter) return;
      this.pending.delete(response.id);
      if (response.error) waiter.reject(BrokerError.fromWire(response.error));
      else waiter.resolve(response.result);
    });
  }

  call<T>(method: string, ...args: unknown[]): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.port.postMessage({ id, method, args } satisfies RpcRequest);
    });
  }

  /**
   * An object whose every method is `call(name, ...args)`: the calling side of an interface served with
   * `serveObject`. Only for interfaces whose methods all return promises.
   */
  proxy<T extends object>(): T {
    return new Proxy({} as T, {
      get: (_target, name) =>
        typeof name === 'string' ? (...args: unknown[]) => this.call(name, ...args) : undefined,
    });
  }

  /** Fails every waiting call and all later ones (the worker is gone). */
  failAll(error: BrokerError): void {
    this.failure = error;
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }

  get waiting(): number {
    return this.pending.size;
  }
}

export type Handlers = Record<string, (...args: never[]) => unknown>;

/** Serves `handlers` on `port`: each request runs in arrival order; async answers may finish out of order. */
export function serveRpc(port: Port, handlers: Handlers): void {
  port.on('message', (message) => {
    const { id, method, args } = message as RpcRequest;
    const handler = handlers[method] as ((...a: unknown[]) => unknown) | undefined;
    const reply = (response: RpcResponse) => port.postMessage(response);
    if (!handler) {
      reply({ id, error: { code: 'INVALID_REQUEST', message: `unknown method ${method}` } });
      return;
    }
    let outcome: unknown;
    try {
      outcome = handler(...args);
    } catch (err) {
      reply({ id, error: asBrokerError(err).toWire() });
      return;
    }
    Promise.resolve(outcome).then(
      (result) => reply({ id, result }),
      (err) => reply({ id, error: asBrokerError(err).toWire() }),
    );
  });
}
