/**
 * @module
 * The one way the cluster layer connects to etcd: an `etcd3` client (gRPC, pure JavaScript) whose unary calls
 * carry a deadline, so a call to an etcd that is down or cut off fails within `ETCD_CALL_TIMEOUT_MS` instead
 * of waiting for gRPC to reconnect. Streams (lease keep-alives, watches) have no deadline; etcd3 restarts
 * them itself.
 *
 * etcd3's own fault handling stays at its defaults: three retries per call over the endpoints, and a circuit
 * breaker per endpoint that, after three failures in a row, stops calling it for 5 s. So after an etcd
 * outage the brokers see etcd again up to 5 s after it is back.
 */
import { Etcd3 } from 'etcd3';

/** The longest one etcd call (get, put, transaction, lease grant or revoke) may take. */
export const ETCD_CALL_TIMEOUT_MS = 3_000;

export function connectEtcd(endpoints: readonly string[]): Etcd3 {
  return new Etcd3({
    hosts: [...endpoints],
    dialTimeout: ETCD_CALL_TIMEOUT_MS,
    defaultCallOptions: (context) =>
      context.isStream ? {} : { deadline: Date.now() + ETCD_CALL_TIMEOUT_MS },
  });
}

/** `err`'s message, for logs and the errors this layer throws. */
export function etcdErrorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
