import http2 from "node:http2";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  type ConnectRouterOptions,
  createConnectRouter,
  createContextKey,
  createContextValues,
  type HandlerContext,
} from "@connectrpc/connect";
import { codeFromHttpStatus } from "@connectrpc/connect/protocol-connect";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import { type Principal, principalKey, refusalKey } from "../auth/principal.js";
import { isPublicService } from "../auth/public-services.js";
import type { DualHandler } from "./listener.js";

type NodeRequest = Parameters<DualHandler>[0];
type NodeResponse = Parameters<DualHandler>[1];

/** The raw request and response of a call, for what Connect cannot do: cut a stalled stream. */
export const nodeCallKey = createContextKey<{ req: NodeRequest; res: NodeResponse } | undefined>(undefined, {
  description: "tdb node request",
});
/** Set by the log interceptor once it has logged the call. */
export const loggedKey = createContextKey<{ done: boolean } | undefined>(undefined, {
  description: "tdb logged",
});

/** Why Connect ended a call no interceptor saw (its abort reason), for the log line. */
const failureKey = createContextKey<{ reason?: unknown } | undefined>(undefined, {
  description: "tdb failure",
});

/**
 * For the router's `requestGate`: remembers why Connect aborted the call (e.g. a body that
 * did not decode), so the log line of a call no interceptor saw names the code the client got.
 */
export function recordFailure(ctx: HandlerContext): void {
  ctx.signal.addEventListener(
    "abort",
    () => {
      const slot = ctx.values.get(failureKey);
      if (slot && ctx.signal.reason !== undefined) slot.reason = ctx.signal.reason;
    },
    { once: true },
  );
}

/** What the handler needs besides Connect's own options. */
export interface RpcHandlerOptions extends ConnectRouterOptions {
  routes: (router: ConnectRouter) => void;
  fallback: DualHandler;
  /**
   * Resolves the caller of a non-public call from its headers, before the body is read.
   * Throws a ConnectError (Unauthenticated, Unavailable) to refuse it.
   */
  admit: (header: Headers) => Promise<Principal>;
  /** Called for a call that ended before any interceptor saw it (e.g. its body did not decode). */
  unobserved: (method: string, code: string, ms: number) => void;
}

/**
 * Connect's node adapter (`connectNodeAdapter`, whose job this does), with admission in
 * front: the caller of a non-public method is authenticated from the headers alone, so a
 * request without a valid credential is refused before one byte of its body is read or
 * decoded — an unauthenticated 16 MiB upload costs nothing. The refusal still goes through
 * Connect (the body is replaced by an empty message and the authenticate interceptor
 * throws), so every protocol gets its own exact error and every bad credential the same
 * bytes; the unread body is then cut (HTTP/2: the stream is reset, HTTP/1.1: the
 * connection closes).
 *
 * Responses of non-public methods carry `Cache-Control: no-store`: they hold tenant data
 * and Connect GET makes them cacheable otherwise.
 */
export function rpcHandler(options: RpcHandlerOptions): DualHandler {
  // As connectNodeAdapter does: gzip and brotli unless told otherwise.
  const router = createConnectRouter({
    ...options,
    acceptCompression: options.acceptCompression ?? [compressionGzip, compressionBrotli],
  });
  options.routes(router);
  const paths = new Map(router.handlers.map((h) => [h.requestPath, h]));

  return (req, res) => {
    const uHandler = paths.get(req.url?.split("?", 2)[0] ?? "");
    if (!uHandler) {
      options.fallback(req, res);
      return;
    }
    const started = performance.now();
    const method = `${uHandler.service.typeName}/${uHandler.method.name}`;
    const values = createContextValues();
    const logged = { done: false };
    values.set(loggedKey, logged);
    values.set(failureKey, {});
    values.set(nodeCallKey, { req, res });
    const open = isPublicService(uHandler.service.typeName);
    if (!open) {
      res.setHeader("cache-control", "no-store");
      res.setHeader("vary", "x-api-key, authorization");
    }
    const run = async () => {
      let uReq = universalRequestFromNodeRequest(req, res, undefined, values);
      if (!open) {
        try {
          values.set(principalKey, await options.admit(uReq.header));
        } catch (err) {
          values.set(refusalKey, ConnectError.from(err, Code.Unavailable));
          uReq = { ...uReq, header: withoutEncodings(uReq.header), body: emptyBody(uReq.header) };
          if (!("stream" in req)) res.setHeader("connection", "close");
        }
      }
      const uRes = await uHandler(uReq);
      // The answer is complete once the response finishes: a body still arriving (a refused
      // call, an upload ended for idling) is not wanted. (connect-node's own promise waits for
      // an 'end' event Node's responses never emit, so it cannot be awaited for this.)
      res.once("finish", () => cutBody(req));
      // After the call's own abort has run (a cancelled stream is logged by the interceptors).
      res.once("close", () =>
        setImmediate(() => {
          if (logged.done) return;
          const failed = values.get(failureKey)?.reason;
          const code = failed !== undefined ? Code[ConnectError.from(failed).code] : codeOf(uRes);
          options.unobserved(method, code ?? "Unknown", performance.now() - started);
        }),
      );
      universalResponseToNodeResponse(uRes, res).catch(() => {});
    };
    run().catch((reason: unknown) => {
      // The client went away mid-response: nothing to answer.
      if (ConnectError.from(reason).code === Code.Aborted) return;
      options.unobserved(method, "Internal", performance.now() - started);
      if (!res.headersSent) {
        res.writeHead(500);
      }
      res.end();
    });
  };
}

// The stand-in body is neither compressed nor as long as the real one.
const encodingHeaders = ["content-encoding", "connect-content-encoding", "grpc-encoding", "content-length"];

function withoutEncodings(header: Headers): Headers {
  const h = new Headers(header);
  for (const name of encodingHeaders) h.delete(name);
  return h;
}

/** The smallest valid request body for the call's protocol and codec: one empty message. */
function emptyBody(header: Headers): AsyncIterable<Uint8Array> {
  const type = (header.get("content-type") ?? "").toLowerCase();
  const json = type.endsWith("json");
  const message = json ? new TextEncoder().encode("{}") : new Uint8Array(0);
  const enveloped = type.startsWith("application/grpc") || type.startsWith("application/connect+");
  let body = message;
  if (enveloped) {
    body = new Uint8Array(5 + message.length);
    new DataView(body.buffer).setUint32(1, message.length);
    body.set(message, 5);
  }
  return (async function* () {
    yield body;
  })();
}

/** Stops reading the body of a request whose answer is complete. */
function cutBody(req: NodeRequest): void {
  if (req.readableEnded) return;
  if ("stream" in req) {
    // RST_STREAM(NO_ERROR) after a complete response tells the peer to stop sending
    // (RFC 9113 §8.1); only once the response has left, or it would be lost.
    if (!req.stream.closed) req.stream.close(http2.constants.NGHTTP2_NO_ERROR);
  } else if (!req.complete) {
    // "connection: close" was sent: no further request can come on this socket.
    req.socket.destroySoon();
  }
}

/** The code of a response produced without our interceptors (gRPC status, else HTTP status). */
function codeOf(uRes: { status: number; header?: Headers; trailer?: Headers }): string {
  const grpc = uRes.header?.get("grpc-status") ?? uRes.trailer?.get("grpc-status");
  const code =
    grpc !== null && grpc !== undefined
      ? Number(grpc)
      : uRes.status === 200
        ? 0
        : codeFromHttpStatus(uRes.status);
  return code === 0 ? "ok" : (Code[code] ?? String(code));
}
