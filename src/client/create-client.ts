import type { DescService } from "@bufbuild/protobuf";
import { type Client, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";

/** The wire protocols a TDB server speaks on its one port. */
export type TdbProtocol = "grpc" | "connect" | "grpc-web";

/** How to reach a TDB server from Node. */
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
  /** HTTP version for `"connect"` and `"grpc-web"` (default `"1.1"`); gRPC always uses HTTP/2. */
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

/**
 * A connect-node transport to a TDB server with credentials attached. Share one transport
 * between clients of several services: over HTTP/2 they then share one connection.
 */
export function createTdbTransport(options: TdbClientOptions): Transport {
  const interceptors: Interceptor[] = [];
  if (options.apiKey) interceptors.push(apiKeyInterceptor(options.apiKey));
  else if (options.bearerToken) interceptors.push(bearerTokenInterceptor(options.bearerToken));
  interceptors.push(...(options.interceptors ?? []));
  const common = {
    baseUrl: options.baseUrl,
    interceptors,
    defaultTimeoutMs: options.defaultTimeoutMs,
  };
  const httpVersion = options.httpVersion ?? "1.1";
  switch (options.protocol ?? "grpc") {
    case "grpc":
      return createGrpcTransport(common);
    case "connect":
      return createConnectTransport({ ...common, httpVersion });
    case "grpc-web":
      return createGrpcWebTransport({ ...common, httpVersion });
  }
}

/**
 * Creates a typed Node client for one TDB service, with the API-key interceptor installed.
 * Int64 fields (valid times in µs, counts) are `bigint`.
 *
 * @example
 * import { createTdbClient } from "./src/client/index.js";
 * import { TimeSeriesService } from "./gen/tdb/v1/time_series_service_pb.js";
 *
 * const tdb = createTdbClient(TimeSeriesService, {
 *   baseUrl: "http://127.0.0.1:8080",
 *   apiKey: process.env.TDB_API_KEY,
 * });
 * const { series } = await tdb.listSeries({ name: "temperature_a" });
 */
export function createTdbClient<T extends DescService>(service: T, options: TdbClientOptions): Client<T> {
  return createClient(service, createTdbTransport(options));
}
