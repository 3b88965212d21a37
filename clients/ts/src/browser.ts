/**
 * The TDB client for browsers (connect-web over fetch: Connect or gRPC-Web; browsers cannot
 * speak gRPC). The same services, messages and options as the Node entry point.
 */
import type { DescService } from "@bufbuild/protobuf";
import { type Client, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { interceptorsFor, type TdbClientOptions } from "./options.js";

/** A connect-web transport to a TDB server with credentials attached (default protocol: Connect). */
export function createTdbTransport(options: TdbClientOptions): Transport {
  const common = {
    baseUrl: options.baseUrl,
    interceptors: interceptorsFor(options),
    defaultTimeoutMs: options.defaultTimeoutMs,
  };
  if (options.protocol === "grpc") throw new Error('browsers cannot speak gRPC: use protocol "connect" or "grpc-web"');
  return options.protocol === "grpc-web" ? createGrpcWebTransport(common) : createConnectTransport(common);
}

/** Creates a typed browser client for one TDB service, with the API-key interceptor installed. */
export function createTdbClient<T extends DescService>(service: T, options: TdbClientOptions): Client<T> {
  return createClient(service, createTdbTransport(options));
}

export * from "./exports.js";
