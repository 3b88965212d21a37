import http2 from "node:http2";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { nodeCallKey } from "../server/rpc-handler.js";

/**
 * Yields the messages of a client stream, failing with `DeadlineExceeded` when the client
 * sends nothing for `ms`: an upload that stops sending must not hold its transaction (and
 * its connection) open for as long as the client likes.
 */
export async function* idleLimited<T>(source: AsyncIterable<T>, ms: number, what: string): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ConnectError(
              `${what} sent nothing for ${ms / 1000} s (TDB_STREAM_IDLE_TIMEOUT) and was ended; nothing was written`,
              Code.DeadlineExceeded,
            ),
          ),
        ms,
      );
    });
    try {
      const r = await Promise.race([it.next(), timeout]);
      if (r.done) return;
      yield r.value;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Ends a server stream whose client has stopped taking messages: the HTTP/2 stream is
 * reset (CANCEL) or the HTTP/1.1 connection closed, which aborts the call, so the read's
 * transaction rolls back and its connection returns to the pool. A client that is not
 * reading cannot be sent an error; it sees the stream reset.
 */
export function cutStream(ctx: HandlerContext): void {
  const call = ctx.values.get(nodeCallKey);
  if (!call) return;
  const { req } = call;
  if ("stream" in req) {
    if (!req.stream.closed) req.stream.close(http2.constants.NGHTTP2_CANCEL);
  } else req.socket.destroy();
}

/** The error a stream gets when its key stopped being valid while it ran. */
export function keyGone(what: string): ConnectError {
  return new ConnectError(
    `the API key was revoked, expired or deactivated during the ${what}; it was ended${what === "upload" ? " and nothing was written" : ""}`,
    Code.Unauthenticated,
  );
}
