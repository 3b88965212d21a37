import type { DescService } from "@bufbuild/protobuf";
import { type Client, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";

/** The three protocols every service speaks, with the HTTP version a real client would use. */
export const protocols = ["connect", "grpc", "grpc-web"] as const;
export type Protocol = (typeof protocols)[number];

/** Sends the API key the way clients are told to. */
export function apiKey(key: string): Interceptor {
  return (next) => (req) => {
    req.header.set("x-api-key", key);
    return next(req);
  };
}

/** A connect-node client of `service` over `protocol` (gRPC over h2c; the others over HTTP/1.1). */
export function clientFor<T extends DescService>(
  service: T,
  baseUrl: string,
  key: string | undefined,
  protocol: Protocol = "connect",
): Client<T> {
  const interceptors = key ? [apiKey(key)] : [];
  const transport =
    protocol === "grpc"
      ? createGrpcTransport({ baseUrl, interceptors })
      : protocol === "grpc-web"
        ? createGrpcWebTransport({ baseUrl, httpVersion: "1.1", interceptors })
        : createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors });
  return createClient(service, transport);
}

/** The ConnectError a call fails with; throws when the call succeeds instead. */
export async function failure(p: Promise<unknown>): Promise<ConnectError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
  if (!err) throw new Error("expected the call to fail");
  return err;
}
