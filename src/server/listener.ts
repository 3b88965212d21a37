import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import type { connectNodeAdapter } from "@connectrpc/connect-node";

/** A request handler that works for both HTTP/1.1 and HTTP/2 (connectNodeAdapter's shape). */
export type DualHandler = ReturnType<typeof connectNodeAdapter>;

/** One listening port and how to stop it. */
export interface Listener {
  port: number;
  host: string;
  tls: boolean;
  /** Stops accepting, lets open requests and streams finish, then closes every connection. */
  close(graceMs?: number): Promise<void>;
}

const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/**
 * Serves HTTP/1.1 and HTTP/2 on one port. Cleartext connections are sniffed: the HTTP/2
 * client preface goes to an h2c server, anything else to an HTTP/1.1 server. With a
 * certificate, TLS sockets are dispatched by ALPN (h2 or http/1.1) instead.
 */
export async function listen(
  handler: DualHandler,
  opts: {
    host: string;
    port: number;
    cert?: Buffer;
    key?: Buffer;
    headersTimeoutMs?: number;
    /** A connection with nothing open for this long is closed (default 60 s). */
    idleTimeoutMs?: number;
    /** HTTP/2 streams one connection may have open (default 100). */
    maxStreamsPerConnection?: number;
  },
): Promise<Listener> {
  const headersTimeout = opts.headersTimeoutMs ?? 30_000;
  const idleTimeout = opts.idleTimeoutMs ?? 60_000;
  const h1 = http.createServer(
    {
      // No overall request timeout: long client-streaming uploads over HTTP/1.1 are legitimate.
      requestTimeout: 0,
      headersTimeout,
      connectionsCheckingInterval: Math.min(headersTimeout, 30_000),
      keepAliveTimeout: Math.min(5_000, idleTimeout),
    },
    handler,
  );
  // A socket that neither sends nor receives for this long is closed, even mid-request: a
  // body that stops arriving ties up memory. Streams that may rest have their own timeouts
  // (TDB_STREAM_IDLE_TIMEOUT, TDB_READ_STALL_TIMEOUT), which are shorter.
  h1.setTimeout(idleTimeout, (socket) => socket.destroy());
  const h2settings = {
    maxConcurrentStreams: opts.maxStreamsPerConnection ?? 100,
    initialWindowSize: 4 * 1024 * 1024,
  };
  const h2 = http2.createServer({ settings: h2settings, maxSessionMemory: 64 }, handler);
  const tlsServer =
    opts.cert && opts.key
      ? http2.createSecureServer(
          { cert: opts.cert, key: opts.key, allowHTTP1: true, settings: h2settings, maxSessionMemory: 64 },
          handler,
        )
      : undefined;

  // node:http only starts its header/request timeout checker on 'listening'; these inner
  // servers never listen themselves, so without this a slowloris client is never cut off.
  h1.emit("listening");

  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.Http2Session>();
  for (const s of [h2, tlsServer]) {
    s?.on("session", (session) => {
      sessions.add(session);
      session.on("close", () => sessions.delete(session));
      closeWhenIdle(session, idleTimeout);
    });
  }

  const front = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    // A connection that never says which protocol it speaks is closed; once it has, the
    // HTTP/1.1 or HTTP/2 server's own timeouts take over.
    socket.setTimeout(headersTimeout, () => socket.destroy());
    sniff(socket, (first) => {
      socket.setTimeout(0);
      // http2 and tls read the bytes put back on the paused socket themselves (on the next
      // tick); resuming it here would spill them as 'data' events nobody listens to.
      if (tlsServer && first[0] === 0x16) tlsServer.emit("connection", socket);
      else if (first.length >= preface.length && first.subarray(0, preface.length).equals(preface))
        h2.emit("connection", socket);
      else {
        // Take the sniffed bytes back out and hand them to the HTTP/1.1 parser as a 'data'
        // event. Left in the stream's buffer, they would be flushed by resume() in flowing
        // mode, and Node's parser would then read the socket without backpressure: a body
        // nobody reads (a refused upload) would be buffered whole in memory.
        socket.read();
        h1.emit("connection", socket);
        socket.emit("data", first);
        socket.resume();
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    front.once("error", reject);
    front.listen(opts.port, opts.host, () => resolve());
  });
  const address = front.address() as net.AddressInfo;

  return {
    port: address.port,
    host: opts.host,
    tls: tlsServer !== undefined,
    async close(graceMs = 10_000) {
      const closed = new Promise<void>((resolve) => front.close(() => resolve()));
      // Ask HTTP/2 peers to stop opening streams (GOAWAY) and let open ones finish;
      // HTTP/1.1 keep-alive connections close after their current response.
      for (const s of sessions) s.close();
      h1.closeIdleConnections();
      const timer = setTimeout(() => {
        for (const s of sessions) s.destroy();
        for (const s of sockets) s.destroy();
      }, graceMs);
      const drain = setInterval(() => h1.closeIdleConnections(), 100);
      await closed;
      clearTimeout(timer);
      clearInterval(drain);
    },
  };
}

/**
 * Closes an HTTP/2 session (GOAWAY) after `ms` without a stream open. Open streams keep it:
 * each bounds itself (idle, stall and public-stream limits).
 */
function closeWhenIdle(session: http2.Http2Session, ms: number): void {
  let open = 0;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (open === 0 && !session.closed) session.close();
    }, ms);
    timer.unref();
  };
  session.on("stream", (stream) => {
    open++;
    clearTimeout(timer);
    stream.once("close", () => {
      open--;
      if (open === 0) arm();
    });
  });
  session.once("close", () => clearTimeout(timer));
  arm();
}

/**
 * Reads until the first bytes decide the protocol: a full 24-byte preface, a mismatch
 * with it, or a TLS handshake byte. Puts the bytes back before handing the socket on.
 */
function sniff(socket: net.Socket, decide: (first: Buffer) => void): void {
  let buffered = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    const n = Math.min(buffered.length, preface.length);
    const matches = buffered.subarray(0, n).equals(preface.subarray(0, n));
    if (matches && buffered.length < preface.length && buffered[0] !== 0x16) return;
    socket.off("data", onData);
    socket.pause();
    socket.unshift(buffered);
    decide(buffered);
  };
  socket.on("data", onData);
}
