import type { Interceptor } from "@connectrpc/connect";

/** The wire protocols a TDB server speaks on its one port. */
export type TdbProtocol = "grpc" | "connect" | "grpc-web";

/** How to reach a TDB server (Node or browser). */
export interface TdbClientOptions {
  /** Where the server listens, e.g. `http://127.0.0.1:8080` (h2c / HTTP/1.1) or `https://tdb.example.com`. */
  baseUrl: string;
  /**
   * A tenant's API key (`tdbk_…`), sent as `x-api-key` on every call. A call that sets its own
   * `x-api-key` header keeps it, so one client can act for several keys.
   */
  apiKey?: string;
  /** A JWT, sent as `authorization: Bearer …` when no `apiKey` is given. */
  bearerToken?: string;
  /**
   * Wire protocol. Default `"grpc"`: HTTP/2 (prior knowledge on `http://`, ALPN on `https://`),
   * what backends use for long client-streaming uploads. `"connect"` and `"grpc-web"` also work
   * over HTTP/1.1, e.g. through proxies that do not speak HTTP/2.
   */
  protocol?: TdbProtocol;
  /** Node only: HTTP version for `"connect"` and `"grpc-web"` (default `"1.1"`); gRPC always uses HTTP/2. */
  httpVersion?: "1.1" | "2";
  /** Deadline applied to every call that does not pass its own `timeoutMs`. */
  defaultTimeoutMs?: number;
  /** More interceptors, run after the credential interceptor (e.g. logging, retries). */
  interceptors?: Interceptor[];
}

/**
 * Sends a TDB API key as `x-api-key` on every request, unless the call set one itself.
 *
 * @example
 * createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors: [apiKeyInterceptor(key)] })
 */
export function apiKeyInterceptor(apiKey: string): Interceptor {
  return (next) => (req) => {
    if (!req.header.has("x-api-key")) req.header.set("x-api-key", apiKey);
    return next(req);
  };
}

/** Sends a JWT as `authorization: Bearer …` on every request, unless the call set one itself. */
export function bearerTokenInterceptor(token: string): Interceptor {
  return (next) => (req) => {
    if (!req.header.has("authorization")) req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
}

/** The credential interceptor for the options, then the caller's own. */
export function interceptorsFor(options: TdbClientOptions): Interceptor[] {
  const interceptors: Interceptor[] = [];
  if (options.apiKey) interceptors.push(apiKeyInterceptor(options.apiKey));
  else if (options.bearerToken) interceptors.push(bearerTokenInterceptor(options.bearerToken));
  interceptors.push(...(options.interceptors ?? []));
  return interceptors;
}
