/**
 * @module
 * ApiVersions (key 18), versions 0-3: the APIs and version ranges this broker serves, sorted by key. The
 * list is the server's own (the `apis` it was started with, which it puts on the context as `ServedApis`),
 * so only what is implemented is advertised.
 *
 * Request  v0-2: (empty)
 *          v3:   client_software_name, client_software_version (compact strings), tags
 * Response v0:   error_code int16, api_keys [api_key int16, min_version int16, max_version int16]
 *          v1-2: + throttle_time_ms int32
 *          v3:   compact array, each element with tags; throttle_time_ms; tagged features (not sent)
 * Always with response header v0, so a client that does not know the broker yet can read it. A request of
 * a version above the served ones is answered by the server in the v0 layout with UNSUPPORTED_VERSION (35)
 * and the list (`apiVersionsResponse`), so the client can retry with a version it finds there.
 *
 * The client software name and version (v3) are not checked: Kafka rejects names outside
 * `[a-zA-Z0-9._-]`, which helps no one here.
 */
import type { AnyKafkaApi, KafkaApi, KafkaContext } from '../api.ts';
import type { ApiVersionsResponse } from '../generated/messages.ts';

export const API_VERSIONS_KEY = 18;

/** What the server adds to every handler's context: the APIs it serves. */
export interface ServedApis {
  apis: readonly AnyKafkaApi[];
}

/** The ApiVersions body for `apis` (sorted by key) with `errorCode`; fields a version lacks are dropped on encoding. */
export function apiVersionsResponse(apis: readonly AnyKafkaApi[], errorCode: number): ApiVersionsResponse {
  return {
    errorCode,
    apiKeys: apis
      .map((api) => ({ apiKey: api.apiKey, minVersion: api.minVersion, maxVersion: api.maxVersion }))
      .sort((a, b) => a.apiKey - b.apiKey),
    throttleTimeMs: 0,
  };
}

export const apiVersionsApi: KafkaApi<18> = {
  apiKey: API_VERSIONS_KEY,
  minVersion: 0,
  maxVersion: 3,
  async handle(_request, _version, ctx: KafkaContext) {
    const served = (ctx as KafkaContext & Partial<ServedApis>).apis;
    // Without the server's list, this API at least announces itself.
    return apiVersionsResponse(served ?? [apiVersionsApi], 0);
  },
};
