/**
 * The TDB client for Node (connect-node: gRPC over HTTP/2, Connect and gRPC-Web over
 * HTTP/1.1 or HTTP/2): typed clients for the generated services with credentials attached.
 * Browsers import `@tdb-dev/client/browser` (or get it through the "browser" condition).
 */
import type { DescService } from "@bufbuild/protobuf";
import { type Client, createClient, type Transport } from "@connectrpc/connect";
import { interceptorsFor, type TdbClientOptions } from "./options.js";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";

/**
 * A connect-node transport to a TDB server with credentials attached. Share one transport
 * between clients of several services: over HTTP/2 they then share one connection.
 */
export function createTdbTransport(options: TdbClientOptions): Transport {
  const interceptors = interceptorsFor(options);
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
 * import { createTdbClient, TimeSeriesService } from "@tdb-dev/client";
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

export * from "./exports.js";
