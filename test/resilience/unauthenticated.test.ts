import { randomUUID } from "node:crypto";
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { Writable } from "node:stream";
import { create, toBinary, toJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { ServerReflection } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { TimeSeriesService, UploadBatchRequestSchema } from "../../gen/tdb/v1/time_series_service_pb.js";
import { generateApiKey } from "../../src/auth/api-key.js";
import { invalidCredentialMessage, missingCredentialMessage } from "../../src/auth/authenticate.js";
import { loadConfig } from "../../src/config.js";
import { listen } from "../../src/server/listener.js";
import { startServer, type TdbServer } from "../../src/server/server.js";
import { createTenant } from "../../src/store/tenants.js";
import { clientFor, failure } from "../helpers/clients.js";
import { freshDatabase, startTestServer, type TestServer } from "../helpers/test-server.js";
import { eventually, seed } from "./streams.js";

/**
 * Limits that hold before a caller is known (issue 10, points 3 and 8; red-team notes §3, §7,
 * §8, §9), tried with real clients over real sockets: connections that say nothing or go
 * idle are closed, HTTP/2 streams per connection and public streams are capped, a request
 * without a valid credential is refused from its headers while its body is still arriving,
 * tenant data is not cacheable, /metrics is guarded, and cancels and decode failures are
 * logged as what they are.
 *
 * No assertion is about time: short timeouts come from the configuration, and each test
 * waits for the event (close, GOAWAY, answer) the limit produces. A limit that is missing
 * shows as a test that never sees its event and times out, or as a counted difference.
 */

const upload = "/tdb.v1.TimeSeriesService/UploadBatch";

// ---------------------------------------------------------------------------------------
// Wire helpers
// ---------------------------------------------------------------------------------------

type Fields = Record<string, string>;

/** An answer as it came off the wire. */
interface Answer {
  status: number;
  /** Response headers, lower-case, without `date`. */
  headers: Fields;
  /** HTTP/2 trailers (gRPC), lower-case; {} over HTTP/1.1. */
  trailers: Fields;
  body: Buffer;
}

function fields(h: http.IncomingHttpHeaders | http2.IncomingHttpHeaders): Fields {
  const out: Fields = {};
  for (const [k, v] of Object.entries(h)) {
    if (k === "date" || k === ":status" || v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : String(v);
  }
  return out;
}

/** A gRPC message envelope: flags 0, big-endian length, the message. */
function envelope(message: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

/** An UploadBatch of `points` points: valid, so with a good key it would be stored. */
function batch(points: number) {
  const t0 = 1_700_000_000_000_000n;
  return create(UploadBatchRequestSchema, {
    header: { workflowId: "twelve-megabytes", createMissingSeries: true },
    chunks: [
      {
        series: { name: `big-${randomUUID()}` },
        validTimes: Array.from({ length: points }, (_, i) => t0 + BigInt(i) * 1_000_000n),
        values: Array.from({ length: points }, (_, i) => i + 0.123456789),
      },
    ],
  });
}

/** ~11.5 MB as gRPC (envelope included) and ~12.8 MB as Connect JSON. */
const bigGrpcBody = envelope(toBinary(UploadBatchRequestSchema, batch(720_000)));
const bigJsonBody = Buffer.from(toJsonString(UploadBatchRequestSchema, batch(360_000)));

/** Something with write(chunk, cb), 'drain' and 'close': an HTTP/2 stream or an HTTP/1.1 request. */
interface Sink {
  write(chunk: Buffer, cb: (err?: Error | null) => void): boolean;
  end(): void;
  on(event: "drain" | "close", f: () => void): unknown;
  off(event: "drain" | "close", f: () => void): unknown;
}

/**
 * Writes `body` in 64 KiB chunks the way a well-behaved client does: on `false` it waits for
 * 'drain' (or 'close'), and it stops when the sink closes. Returns how many bytes the sink
 * accepted (write callbacks without error), so a test can tell whether the peer took all.
 */
async function pump(sink: Sink, body: Buffer): Promise<{ accepted: number; ended: boolean }> {
  let closed = false;
  sink.on("close", () => {
    closed = true;
  });
  let accepted = 0;
  const flushed: Promise<void>[] = [];
  const waitDrainOrClose = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        sink.off("drain", done);
        sink.off("close", done);
        resolve();
      };
      sink.on("drain", done);
      sink.on("close", done);
    });
  for (let off = 0; off < body.length && !closed; off += 64 * 1024) {
    const chunk = body.subarray(off, off + 64 * 1024);
    let ok = true;
    flushed.push(
      new Promise<void>((resolve) => {
        ok = sink.write(chunk, (err) => {
          if (!err) accepted += chunk.length;
          resolve();
        });
      }),
    );
    if (!ok && !closed) await waitDrainOrClose();
  }
  const ended = !closed;
  if (ended) sink.end();
  // Every write's callback runs: with success once flushed, with an error once the sink dies.
  await Promise.all(flushed);
  return { accepted, ended };
}

/** Response headers, trailers, body and RST_STREAM code of one HTTP/2 stream. */
function h2Answer(stream: http2.ClientHttp2Stream): Promise<Answer & { rstCode: number }> {
  return new Promise((resolve) => {
    let status = 0;
    let headers: Fields = {};
    let trailers: Fields = {};
    const chunks: Buffer[] = [];
    stream.on("response", (h) => {
      status = Number(h[":status"]);
      headers = fields(h);
    });
    stream.on("trailers", (h) => {
      trailers = fields(h);
    });
    stream.on("data", (d: Buffer) => chunks.push(d));
    // A reset after the answer is how the server says "stop sending"; not a failure here.
    stream.on("error", () => {});
    stream.on("close", () =>
      resolve({ status, headers, trailers, body: Buffer.concat(chunks), rstCode: stream.rstCode ?? -1 }),
    );
  });
}

/**
 * The answer to an HTTP/1.1 request still being written; status 0 when the connection
 * closed before any answer arrived (a reset the client saw as EPIPE / ECONNRESET).
 */
function h1Answer(req: http.ClientRequest): Promise<Answer> {
  return new Promise((resolve) => {
    let started = false;
    req.on("error", () => {});
    req.on("response", (res) => {
      started = true;
      const chunks: Buffer[] = [];
      res.on("data", (d: Buffer) => chunks.push(d));
      res.on("error", () => {});
      res.on("close", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: fields(res.headers),
          trailers: {},
          body: Buffer.concat(chunks),
        }),
      );
    });
    req.on("close", () => {
      if (!started) resolve({ status: 0, headers: {}, trailers: {}, body: Buffer.alloc(0) });
    });
  });
}

/** One HTTP/2 request with a complete body. */
async function h2Call(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer) {
  const stream = session.request(headers, { endStream: body === undefined });
  const answer = h2Answer(stream);
  if (body !== undefined) stream.end(body);
  return answer;
}

/** One HTTP/1.1 request on a connection of its own (no agent), with a complete body. */
function h1Call(port: number, opts: { method?: string; path: string; headers?: Fields; body?: Buffer }) {
  return new Promise<Answer>((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method: opts.method ?? "GET",
        path: opts.path,
        headers: opts.headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => chunks.push(d));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: fields(res.headers),
            trailers: {},
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(opts.body);
  });
}

function grpcHeaders(path: string, credential: Fields): http2.OutgoingHttpHeaders {
  return {
    ":method": "POST",
    ":path": path,
    "content-type": "application/grpc",
    te: "trailers",
    ...credential,
  };
}

/** The credentials a stranger might send: none, or ones that resolve to no key. */
function strangers(): Record<string, Fields> {
  const unknown = generateApiKey(); // right shape and checksum, no such key in the database
  const badChecksum = `${unknown.slice(0, -1)}${unknown.endsWith("0") ? "1" : "0"}`;
  return {
    missing: {},
    garbled: { "x-api-key": "not a key at all" },
    "bad checksum": { "x-api-key": badChecksum },
    "unknown well-formed key": { "x-api-key": unknown },
    "unknown key as bearer": { authorization: `Bearer ${generateApiKey()}` },
  };
}

/** Waits for the socket to be closed; returns what the server sent before closing. */
function closed(socket: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let got = "";
    socket.on("data", (d) => (got += d));
    socket.on("error", () => {});
    socket.on("close", () => resolve(got));
  });
}

async function connected(port: number): Promise<net.Socket> {
  const socket = net.connect(port, "127.0.0.1");
  await new Promise((r) => socket.once("connect", r));
  return socket;
}

function h2Connect(url: string): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(url);
  session.on("error", () => {});
  return new Promise((resolve, reject) => {
    session.once("remoteSettings", () => resolve(session));
    session.once("error", reject);
  });
}

/** A port nobody listens on right now. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

// ---------------------------------------------------------------------------------------
// 1. Silent connections
// ---------------------------------------------------------------------------------------

describe("a TCP connection that never sends a byte", () => {
  // Guards the front socket's sniff timeout (listener.ts: socket.setTimeout(headersTimeout)).
  // Without it the socket is never closed and this test times out. There is no TDB_* setting
  // for it (server.ts passes no headersTimeoutMs, so a real server waits 30 s): it is tried
  // through listen() with a short headersTimeoutMs, and against a real server at the end of
  // the "one server" suite below.
  it("is closed by the listener once headersTimeout passes, without an answer", async () => {
    const l = await listen(((_req: unknown, res: { end(s: string): void }) => res.end("hi")) as never, {
      host: "127.0.0.1",
      port: 0,
      headersTimeoutMs: 300,
    });
    try {
      const socket = await connected(l.port);
      expect(await closed(socket)).toBe("");
    } finally {
      await l.close(100);
    }
  });
});

// ---------------------------------------------------------------------------------------
// 2. Idle connections
// ---------------------------------------------------------------------------------------

describe("idle connections (TDB_IDLE_CONNECTION_TIMEOUT=0.5)", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ TDB_IDLE_CONNECTION_TIMEOUT: "0.5", TDB_SHUTDOWN_GRACE: "1" });
  });
  afterAll(async () => {
    await srv?.close();
  });

  /** Resolves with the GOAWAY code when the session has been closed by the server. */
  function goneAway(session: http2.ClientHttp2Session): Promise<number | undefined> {
    return new Promise((resolve) => {
      let code: number | undefined;
      session.on("goaway", (c) => (code = c));
      session.on("close", () => resolve(code));
    });
  }

  // Guards closeWhenIdle (listener.ts): an h2c session that never opens a stream holds a
  // socket and session memory; without the timer it stays open and this test times out.
  it("closes an HTTP/2 session that opens no stream, with GOAWAY(NO_ERROR)", async () => {
    const session = await h2Connect(srv.url);
    expect(await goneAway(session)).toBe(http2.constants.NGHTTP2_NO_ERROR);
  });

  // The timer is re-armed when the last stream closes, not only at connect.
  it("closes an HTTP/2 session that has gone idle after a request", async () => {
    const session = await h2Connect(srv.url);
    const gone = goneAway(session);
    const res = await h2Call(session, { ":path": "/healthz" });
    expect(res.status).toBe(200);
    expect(await gone).toBe(http2.constants.NGHTTP2_NO_ERROR);
  });

  // Open streams keep their session: a Watch stream outlives a session that was opened after
  // it and closed for idling. Guards against an idle timer that ignores open streams.
  it("keeps an HTTP/2 session with an open stream while an idle one is closed", async () => {
    const busy = await h2Connect(srv.url);
    const watch = busy.request(grpcHeaders("/grpc.health.v1.Health/Watch", {}), { endStream: false });
    watch.on("error", () => {});
    watch.end(envelope(new Uint8Array(0)));
    await new Promise((r) => watch.once("data", r)); // the server has the stream open
    const idle = await h2Connect(srv.url);
    expect(await goneAway(idle)).toBe(http2.constants.NGHTTP2_NO_ERROR);
    expect(busy.closed || busy.destroyed).toBe(false);
    expect(watch.closed).toBe(false);
    watch.close();
    busy.close();
  });

  // Guards keepAliveTimeout (listener.ts: min(5 s, idle timeout)): a keep-alive connection
  // with no request is closed. The answer must be keep-alive, or the close proves nothing.
  it("closes an idle HTTP/1.1 keep-alive connection after its answer", async () => {
    const socket = await connected(srv.port);
    const got = closed(socket);
    socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n");
    const text = await got;
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(text.toLowerCase()).toContain("connection: keep-alive");
    expect(text.toLowerCase()).not.toContain("connection: close");
  });

  // Guards h1.setTimeout(idle timeout): a request body that stops arriving is cut even
  // though the request is in progress (there is no overall request timeout).
  it("cuts an HTTP/1.1 request whose body stops arriving", async () => {
    const socket = await connected(srv.port);
    const got = closed(socket);
    socket.write(
      `POST /tdb.v1.TimeSeriesService/ListSeries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
        `X-Api-Key: ${srv.adminKey}\r\nContent-Length: 100\r\n\r\n{"name":`,
    );
    expect(await got).toBe("");
  });
});

// ---------------------------------------------------------------------------------------
// 3–8. One server
// ---------------------------------------------------------------------------------------

describe("one server (TDB_H2_MAX_STREAMS=7, TDB_MAX_PUBLIC_STREAMS=3, TDB_METRICS_TOKEN)", () => {
  const metricsToken = `metrics-${randomUUID()}`;
  let srv: TestServer;
  let keyId: string;
  let silent: Promise<string>;
  beforeAll(async () => {
    srv = await startTestServer({
      TDB_H2_MAX_STREAMS: "7",
      TDB_MAX_PUBLIC_STREAMS: "3",
      TDB_METRICS_TOKEN: metricsToken,
      TDB_SHUTDOWN_GRACE: "1",
    });
    const { rows } = await srv.pool.query<{ id: string }>("SELECT id FROM api_keys WHERE tenant_id = $1", [
      srv.tenantId,
    ]);
    keyId = rows[0]?.id ?? "";
    expect(keyId).not.toBe("");
    // A connection that never sends a byte, opened now and awaited by the last test: the
    // real server's sniff timeout (30 s, not configurable) runs while the other tests do.
    silent = connected(srv.port).then(closed);
  });
  afterAll(async () => {
    await srv?.close();
  });

  // ----- 3. streams per connection -----

  // Guards maxStreamsPerConnection ← TDB_H2_MAX_STREAMS (server.ts → listener.ts). Node's
  // own default is 2^32-1 and listen()'s is 100: only the setting gives 7.
  it("advertises SETTINGS_MAX_CONCURRENT_STREAMS = TDB_H2_MAX_STREAMS", async () => {
    const session = await h2Connect(srv.url);
    try {
      expect(session.remoteSettings.maxConcurrentStreams).toBe(7);
    } finally {
      session.close();
    }
  });

  // ----- 4. public streams -----

  describe("public streams (Health/Watch, reflection) are capped in total", () => {
    const transport = () => createGrpcTransport({ baseUrl: srv.url });

    /** Opens a Watch and waits for its first message; throws the ConnectError if refused. */
    async function openWatch(health: ReturnType<typeof createClient<typeof Health>>) {
      const abort = new AbortController();
      const it = health.watch({ service: "" }, { signal: abort.signal })[Symbol.asyncIterator]();
      const first = await it.next();
      return {
        first,
        async close() {
          abort.abort();
          await it.next().catch(() => {});
        },
      };
    }

    // Guards capStreams' public count (stream-caps.ts): without it the fourth Watch opens,
    // and 40 connections × 256 streams took 500 MB (red team §3).
    it("opens three Watch streams, refuses a fourth and a reflection stream with ResourceExhausted, and accepts one again after a close", async () => {
      const health = createClient(Health, transport());
      // Each stream on a connection of its own: the cap is for all clients together.
      const open = [
        await openWatch(health),
        await openWatch(createClient(Health, transport())),
        await openWatch(createClient(Health, transport())),
      ];
      try {
        for (const w of open) expect(w.first.done).toBe(false);

        const fourth = await failure(openWatch(createClient(Health, transport())));
        expect(Code[fourth.code]).toBe("ResourceExhausted");
        expect(fourth.rawMessage).toMatch(/too many open unauthenticated streams/);

        const reflection = createClient(ServerReflection, transport());
        const listServices = async () => {
          const names: string[] = [];
          for await (const res of reflection.serverReflectionInfo(
            (async function* () {
              yield { messageRequest: { case: "listServices" as const, value: "" } };
            })(),
          ))
            if (res.messageResponse.case === "listServicesResponse")
              names.push(...res.messageResponse.value.service.map((s) => s.name));
          return names;
        };
        expect(Code[(await failure(listServices())).code]).toBe("ResourceExhausted");

        // Authenticated streams are counted per key and tenant, not against the public cap.
        const read = clientFor(TimeSeriesService, srv.url, srv.adminKey, "grpc").readValues({});
        await expect(
          (async () => {
            for await (const _ of read);
          })(),
        ).resolves.toBeUndefined();

        // One closes: its slot is released (on the server, once it sees the client's cancel),
        // and a public stream is accepted again: reflection, then (after it ends) a Watch.
        await open.shift()?.close();
        const refusedOrElse = async <T>(f: () => Promise<T>): Promise<T | undefined> =>
          f().catch((e: unknown) => {
            if (ConnectError.from(e).code !== Code.ResourceExhausted) throw e;
            return undefined;
          });
        let names: string[] | undefined;
        await eventually("a reflection stream is accepted", async () => {
          names = await refusedOrElse(listServices);
          return names !== undefined;
        });
        expect(names).toContain("tdb.v1.TimeSeriesService");
        let again: Awaited<ReturnType<typeof openWatch>> | undefined;
        await eventually("a Watch is accepted again", async () => {
          again = await refusedOrElse(() => openWatch(health));
          return again !== undefined;
        });
        expect(again?.first.done).toBe(false);
        if (again) open.push(again);
      } finally {
        for (const w of open) await w.close();
      }
    });
  });

  // ----- 5. refused before the body is read -----

  describe("a request without a valid credential is refused before its body is read", () => {
    // Guards admission from headers (rpc-handler.ts) and cutBody: before the fix the 11.5 MB
    // body was read and decoded first, then refused (red team §3: 80 of them took 235 MB and
    // another tenant's p50 to 2.3 s). Were the body read, HTTP/2 flow control would let all
    // of it through and the stream would end normally; here the server answers at once and
    // resets the stream with NO_ERROR while the client is still sending.
    it.each(Object.entries(strangers()))(
      "gRPC over h2c, 11.5 MB UploadBatch, %s credential",
      async (_, cred) => {
        const session = await h2Connect(srv.url);
        try {
          const stream = session.request(grpcHeaders(upload, cred), { endStream: false });
          const answer = h2Answer(stream);
          const sent = await pump(stream, bigGrpcBody);
          const res = await answer;
          expect(res.status).toBe(200);
          expect({ ...res.headers, ...res.trailers }["grpc-status"]).toBe(String(Code.Unauthenticated));
          expect(res.rstCode).toBe(http2.constants.NGHTTP2_NO_ERROR);
          expect(sent.ended).toBe(false);
          expect(sent.accepted).toBeLessThan(bigGrpcBody.length);
          // The reset is for the stream only: the same connection serves an authenticated call.
          const ok = await h2Call(
            session,
            grpcHeaders("/tdb.v1.TimeSeriesService/ListSeries", { "x-api-key": srv.adminKey }),
            envelope(new Uint8Array(0)),
          );
          expect({ ...ok.headers, ...ok.trailers }["grpc-status"]).toBe("0");
        } finally {
          session.close();
        }
      },
    );

    // Same guard over HTTP/1.1: the answer carries `connection: close` and the server closes
    // the connection instead of draining the body. Loopback socket buffers take a few MB
    // whatever the server does; the rest is refused (EPIPE / ECONNRESET).
    it.each(Object.entries(strangers()))(
      "Connect JSON over HTTP/1.1, 12.8 MB UploadBatch, %s credential",
      async (_, cred) => {
        const req = http.request({
          host: "127.0.0.1",
          port: srv.port,
          method: "POST",
          path: upload,
          agent: false,
          headers: { "content-type": "application/json", "content-length": bigJsonBody.length, ...cred },
        });
        const answer = h1Answer(req);
        const sent = await pump(req, bigJsonBody);
        const res = await answer;
        // 0: the connection was reset before the client read any answer (EPIPE / ECONNRESET).
        expect(res.status, "the client got a 401, not just a reset").toBe(401);
        expect(JSON.parse(res.body.toString()).code).toBe("unauthenticated");
        expect(res.headers.connection).toBe("close");
        expect(sent.ended).toBe(false);
        expect(sent.accepted).toBeLessThan(bigJsonBody.length);
        // The server is fine: an authenticated call works.
        expect(
          (await clientFor(TimeSeriesService, srv.url, srv.adminKey).listSeries({})).series,
        ).toBeDefined();
      },
    );

    // The root of "not read" over HTTP/1.1: behind listen()'s sniffer, a body nobody reads
    // must stay in the kernel's socket buffers (the client blocks), not pile up in the
    // server's memory. Here the handler neither reads nor answers; the listener's idle
    // timeout (0.5 s) ends the blocked connection. Were the body read into the request's
    // buffer regardless, the client would get all 12.8 MB out and end its request.
    it("listen(): an HTTP/1.1 body nobody reads is held back by TCP, not buffered in the server", async () => {
      const held: http.IncomingMessage[] = [];
      const l = await listen(((req: http.IncomingMessage) => void held.push(req)) as never, {
        host: "127.0.0.1",
        port: 0,
        idleTimeoutMs: 500,
      });
      try {
        const req = http.request({
          host: "127.0.0.1",
          port: l.port,
          method: "POST",
          path: upload,
          agent: false,
          headers: { "content-type": "application/json", "content-length": bigJsonBody.length },
        });
        req.on("error", () => {});
        const sent = await pump(req, bigJsonBody);
        expect(held).toHaveLength(1);
        expect(held[0]?.readableLength ?? 0).toBeLessThan(1024 * 1024);
        expect(sent.ended).toBe(false);
        expect(sent.accepted).toBeLessThan(bigJsonBody.length);
      } finally {
        await l.close(100);
      }
    });

    // The control: with a valid key the very same bodies are read in full and stored. Were
    // the client's pump unable to send 12 MB anyway, the tests above would prove nothing.
    it("accepts the same 11.5 MB gRPC body and 12.8 MB JSON body in full with a valid key", async () => {
      const session = await h2Connect(srv.url);
      try {
        const stream = session.request(grpcHeaders(upload, { "x-api-key": srv.adminKey }), {
          endStream: false,
        });
        const answer = h2Answer(stream);
        const sent = await pump(stream, bigGrpcBody);
        const res = await answer;
        expect({ ...res.headers, ...res.trailers }["grpc-status"]).toBe("0");
        expect(sent).toEqual({ accepted: bigGrpcBody.length, ended: true });
      } finally {
        session.close();
      }
      const req = http.request({
        host: "127.0.0.1",
        port: srv.port,
        method: "POST",
        path: upload,
        agent: false,
        headers: {
          "content-type": "application/json",
          "content-length": bigJsonBody.length,
          "x-api-key": srv.adminKey,
        },
      });
      const status = new Promise<number>((resolve) => req.on("response", (r) => resolve(r.statusCode ?? 0)));
      const sent = await pump(req, bigJsonBody);
      expect(sent).toEqual({ accepted: bigJsonBody.length, ended: true });
      expect(await status).toBe(200);
    });

    /**
     * Every bad credential gets the same bytes per protocol (no oracle for "this key exists
     * but…"); a missing one differs only in its message, which says how to send a key
     * (authenticate.ts: missingCredentialMessage — by design, and it reveals nothing).
     */
    const protocolsToTry: Record<string, (cred: Fields) => Promise<Answer>> = {
      "gRPC (h2c)": async (cred) => {
        const session = await h2Connect(srv.url);
        try {
          return await h2Call(
            session,
            grpcHeaders(upload, cred),
            envelope(toBinary(UploadBatchRequestSchema, batch(10))),
          );
        } finally {
          session.close();
        }
      },
      "gRPC-Web (HTTP/1.1)": (cred) =>
        h1Call(srv.port, {
          method: "POST",
          path: upload,
          headers: { "content-type": "application/grpc-web+proto", ...cred },
          body: envelope(toBinary(UploadBatchRequestSchema, batch(10))),
        }),
      "Connect JSON (HTTP/1.1)": (cred) =>
        h1Call(srv.port, {
          method: "POST",
          path: upload,
          headers: { "content-type": "application/json", ...cred },
          body: Buffer.from(toJsonString(UploadBatchRequestSchema, batch(10))),
        }),
      "Connect proto (HTTP/1.1)": (cred) =>
        h1Call(srv.port, {
          method: "POST",
          path: upload,
          headers: { "content-type": "application/proto", ...cred },
          body: Buffer.from(toBinary(UploadBatchRequestSchema, batch(10))),
        }),
      "Connect GET (HTTP/1.1)": (cred) =>
        h1Call(srv.port, {
          path: `/tdb.v1.TimeSeriesService/ListSeries?connect=v1&encoding=json&message=${encodeURIComponent("{}")}`,
          headers: cred,
        }),
    };

    /** The answer with its message taken out, to compare a missing credential's to the others. */
    function withoutMessage(a: Answer) {
      const strip = ({ "grpc-message": _m, "content-length": _l, ...rest }: Fields) => rest;
      const body =
        a.body.length > 0 && a.headers["content-type"]?.includes("json") ? JSON.parse(String(a.body)) : {};
      return { status: a.status, headers: strip(a.headers), trailers: strip(a.trailers), code: body.code };
    }

    it.each(Object.keys(protocolsToTry))(
      "%s: one byte-identical Unauthenticated answer",
      async (protocol) => {
        const call = protocolsToTry[protocol];
        if (!call) throw new Error(protocol);
        const answers: Record<string, Answer> = {};
        for (const [name, cred] of Object.entries(strangers())) answers[name] = await call(cred);
        const { missing, ...bad } = answers;
        const [first, ...others] = Object.values(bad);
        if (!first || !missing) throw new Error("no answers");
        for (const other of others) expect(other).toEqual(first); // status, headers, trailers, body bytes
        const all = { ...first.headers, ...first.trailers };
        if (protocol.startsWith("gRPC")) {
          expect(first.status).toBe(200);
          // gRPC-Web carries status and message in a trailer frame inside the body.
          const text = protocol.startsWith("gRPC-Web") ? String(first.body) : "";
          const status = all["grpc-status"] ?? /grpc-status: *(\d+)/.exec(text)?.[1];
          const message = all["grpc-message"] ?? /grpc-message: *([^\r\n]*)/.exec(text)?.[1];
          expect(status).toBe(String(Code.Unauthenticated));
          expect(decodeURIComponent(message ?? "")).toBe(invalidCredentialMessage);
        } else {
          expect(first.status).toBe(401);
          expect(JSON.parse(String(first.body))).toEqual({
            code: "unauthenticated",
            message: invalidCredentialMessage,
          });
          expect(JSON.parse(String(missing.body))).toEqual({
            code: "unauthenticated",
            message: missingCredentialMessage,
          });
        }
        if (!protocol.startsWith("gRPC-Web")) expect(withoutMessage(missing)).toEqual(withoutMessage(first));
        expect(first.headers["cache-control"]).toBe("no-store");
      },
    );

    // The 11.5 MB refusal is the very answer a small request gets: the body played no part.
    it("answers a refused 11.5 MB body exactly as a refused small one", async () => {
      const cred = { "x-api-key": generateApiKey() };
      const session = await h2Connect(srv.url);
      try {
        const big = session.request(grpcHeaders(upload, cred), { endStream: false });
        const bigAnswer = h2Answer(big);
        await pump(big, bigGrpcBody);
        const small = await h2Call(session, grpcHeaders(upload, cred), envelope(new Uint8Array(0)));
        const { rstCode: _a, ...bigRes } = await bigAnswer;
        const { rstCode: _b, ...smallRes } = small;
        expect(bigRes).toEqual(smallRes);
      } finally {
        session.close();
      }
    });
  });

  // ----- 6. caching -----

  describe("tenant data is not cacheable", () => {
    const varies = (a: Answer) =>
      (a.headers.vary ?? "")
        .toLowerCase()
        .split(",")
        .map((s) => s.trim());

    // Guards the no-store / Vary headers of rpc-handler.ts (red team §8): a Connect GET
    // answer is cacheable by default, and RFC 9111's rule for Authorization does not cover
    // x-api-key, so a shared cache could serve one tenant's series to another.
    it("ListSeries by Connect GET and by POST: Cache-Control: no-store, Vary: x-api-key", async () => {
      await clientFor(TimeSeriesService, srv.url, srv.adminKey).createSeries({ name: "cached?" });
      const get = await h1Call(srv.port, {
        path: `/tdb.v1.TimeSeriesService/ListSeries?connect=v1&encoding=json&message=${encodeURIComponent(
          JSON.stringify({ name: "cached?" }),
        )}`,
        headers: { "x-api-key": srv.adminKey },
      });
      expect(get.status).toBe(200);
      expect(JSON.parse(String(get.body)).series[0].name).toBe("cached?");
      const post = await h1Call(srv.port, {
        method: "POST",
        path: "/tdb.v1.TimeSeriesService/ListSeries",
        headers: { "content-type": "application/json", "x-api-key": srv.adminKey },
        body: Buffer.from("{}"),
      });
      expect(post.status).toBe(200);
      for (const a of [get, post]) {
        expect(a.headers["cache-control"]).toBe("no-store");
        expect(varies(a)).toContain("x-api-key");
        expect(varies(a)).toContain("authorization");
      }
    });

    it("the same over gRPC", async () => {
      const session = await h2Connect(srv.url);
      try {
        const a = await h2Call(
          session,
          grpcHeaders("/tdb.v1.TimeSeriesService/ListSeries", { "x-api-key": srv.adminKey }),
          envelope(new Uint8Array(0)),
        );
        expect(a.trailers["grpc-status"]).toBe("0");
        expect(a.headers["cache-control"]).toBe("no-store");
        expect(varies(a)).toContain("x-api-key");
      } finally {
        session.close();
      }
    });

    // Public answers need neither header; this only shows Health/Check is served without a key.
    it("Health/Check answers without a key", async () => {
      const a = await h1Call(srv.port, {
        method: "POST",
        path: "/grpc.health.v1.Health/Check",
        headers: { "content-type": "application/json" },
        body: Buffer.from("{}"),
      });
      expect(a.status).toBe(200);
      expect(JSON.parse(String(a.body))).toEqual({ status: "SERVING" });
    });
  });

  // ----- 7. /metrics -----

  describe("/metrics with TDB_METRICS_TOKEN", () => {
    // Guards bearerMatches in server.ts (red team §7: per-method counts of all tenants, open).
    it.each([
      ["no Authorization", {}],
      ["a wrong bearer", { authorization: "Bearer wrong" }],
      ["the token as an API key", { "x-api-key": metricsToken }],
      ["the token with a suffix", { authorization: `Bearer ${metricsToken}x` }],
      ["a tenant's admin key", "admin key"],
    ] as const)("refuses %s with 401", async (_, given) => {
      const headers = given === "admin key" ? { authorization: `Bearer ${srv.adminKey}` } : given;
      const a = await h1Call(srv.port, { path: "/metrics", headers });
      expect(a.status).toBe(401);
      expect(String(a.body)).not.toContain("tdb_rpc_total");
    });

    it("answers the right bearer with the RPC counts, and no tenant id, key id or key", async () => {
      await clientFor(TimeSeriesService, srv.url, srv.adminKey).listSeries({});
      const a = await h1Call(srv.port, {
        path: "/metrics",
        headers: { authorization: `Bearer ${metricsToken}` },
      });
      expect(a.status).toBe(200);
      const text = String(a.body);
      expect(text).toContain("tdb_rpc_total");
      expect(text).toMatch(/tdb_rpc_total\{method="tdb\.v1\.TimeSeriesService\/ListSeries",code="OK"\} \d+/);
      expect(text).not.toContain(srv.tenantId);
      expect(text).not.toContain(keyId);
      expect(text).not.toContain(srv.adminKey);
    });

    it("guards /metrics over HTTP/2 too", async () => {
      const session = await h2Connect(srv.url);
      try {
        expect((await h2Call(session, { ":path": "/metrics" })).status).toBe(401);
        const ok = await h2Call(session, { ":path": "/metrics", authorization: `Bearer ${metricsToken}` });
        expect(ok.status).toBe(200);
        expect(String(ok.body)).toContain("tdb_rpc_total");
      } finally {
        session.close();
      }
    });
  });

  // ----- 8. liveness and readiness -----

  it("answers /healthz and /readyz with 200 over HTTP/1.1 and HTTP/2", async () => {
    expect((await h1Call(srv.port, { path: "/healthz" })).status).toBe(200);
    const ready = await h1Call(srv.port, { path: "/readyz" });
    expect(ready.status).toBe(200);
    expect(ready.headers["cache-control"]).toBe("no-store");
    const session = await h2Connect(srv.url);
    try {
      expect((await h2Call(session, { ":path": "/healthz" })).status).toBe(200);
      expect((await h2Call(session, { ":path": "/readyz" })).status).toBe(200);
    } finally {
      session.close();
    }
  });

  // ----- 1 (continued), on the real server -----

  // The connection opened in beforeAll, silent since: closed by the front socket's timeout
  // (headersTimeout, 30 s in a real server). Without it this test times out.
  it("has closed the connection that never sent a byte, without an answer", { timeout: 45_000 }, async () => {
    expect(await silent).toBe("");
  });
});

// ---------------------------------------------------------------------------------------
// 7 (continued). /metrics on its own address
// ---------------------------------------------------------------------------------------

describe("/metrics with TDB_METRICS_LISTEN", () => {
  let srv: TestServer;
  let metricsPort: number;
  beforeAll(async () => {
    metricsPort = await freePort();
    srv = await startTestServer({ TDB_METRICS_LISTEN: `127.0.0.1:${metricsPort}`, TDB_SHUTDOWN_GRACE: "1" });
  });
  afterAll(async () => {
    await srv?.close();
  });

  // Guards metricsOnThisPort (server.ts): once moved, the API port must not serve it.
  it("serves /metrics on its own port and 404 on the API port", async () => {
    await clientFor(TimeSeriesService, srv.url, srv.adminKey).listSeries({});
    const there = await h1Call(metricsPort, { path: "/metrics" });
    expect(there.status).toBe(200);
    expect(String(there.body)).toContain("tdb_rpc_total");
    expect(String(there.body)).not.toContain(srv.tenantId);
    expect((await h1Call(srv.port, { path: "/metrics" })).status).toBe(404);
    expect((await h1Call(metricsPort, { path: "/healthz" })).status).toBe(404);
    expect((await h1Call(srv.port, { path: "/healthz" })).status).toBe(200);
  });
});

// ---------------------------------------------------------------------------------------
// 9. What the log says
// ---------------------------------------------------------------------------------------

describe("the rpc log line", () => {
  const lines: Record<string, unknown>[] = [];
  let server: TdbServer;
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let url: string;
  let key: string;
  beforeAll(async () => {
    db = await freshDatabase();
    const config = loadConfig({
      TDB_PORT: "0",
      TDB_DATABASE_URL: db.url,
      TDB_DEFAULT_RATE_LIMIT: "100000",
      TDB_DRAIN_DELAY: "0",
      TDB_SHUTDOWN_GRACE: "1",
      // A read whose client is gone is cut after 1 s at the latest: the waits below (10 s)
      // outlast every server-side limit, so a missing line is missing, not late.
      TDB_READ_STALL_TIMEOUT: "1",
    });
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(JSON.parse(String(chunk)));
        cb();
      },
    });
    server = await startServer(config, db.pool, pino({ base: undefined }, sink));
    url = `http://127.0.0.1:${server.listener.port}`;
    key = (await createTenant(db.pool, `log-${randomUUID()}`)).rawKey;
    await seed(clientFor(TimeSeriesService, url, key, "grpc"), "long", 300_000);
  });
  afterAll(async () => {
    await server?.close();
    await db?.drop();
  });

  const rpcLines = (method: string) => lines.filter((l) => l.msg === "rpc" && l.method === method);
  const metricsText = async () => String((await h1Call(server.listener.port, { path: "/metrics" })).body);
  /** How often `text` (of /metrics) has counted `method` ending with `code`. */
  const countIn = (text: string, method: string, code: string) => {
    const m = text.split("\n").find((l) => l.startsWith(`tdb_rpc_total{method="${method}",code="${code}"} `));
    return Number(m?.split(" ").pop() ?? 0);
  };

  // Guards logCalls' cancel branch (red team §9: a cancel was logged Internal with the
  // ERR_STREAM_PREMATURE_CLOSE stack). Each protocol cancels differently: gRPC resets the
  // HTTP/2 stream, Connect over HTTP/1.1 closes the connection. The line must exist: a
  // cancelled stream that is never logged (nor counted in /metrics) fails here too.
  it.each(["grpc", "connect"] as const)(
    "logs a ReadValues cancelled mid-stream as Canceled, without a stack (%s)",
    async (protocol) => {
      const method = "tdb.v1.TimeSeriesService/ReadValues";
      const before = rpcLines(method).length;
      const metricsBefore = await metricsText();
      const abort = new AbortController();
      const client = clientFor(TimeSeriesService, url, key, protocol);
      const it = client
        .readValues({ name: "long", chunkSize: 1000 }, { signal: abort.signal })
        [Symbol.asyncIterator]();
      expect((await it.next()).done).toBe(false);
      abort.abort();
      await it.next().catch(() => {});
      await eventually("the read is logged", async () => rpcLines(method).length > before, 100);
      const line = rpcLines(method)[before];
      expect(line?.code, JSON.stringify(line)).toBe("Canceled");
      expect(line).not.toHaveProperty("err");
      expect(JSON.stringify(line)).not.toMatch(/stack|ERR_STREAM/);
      expect(countIn(await metricsText(), method, "Canceled")).toBe(
        countIn(metricsBefore, method, "Canceled") + 1,
      );
    },
  );

  // Guards the `unobserved` path of rpc-handler.ts (red team §9: a request that failed
  // decoding left no log line or metric): one line and one count, with the method and the
  // code the client got. (For Connect that is the code in the JSON error body: HTTP 400
  // alone would read as Internal in Connect's HTTP-to-code table.)
  const pascal = (snake: string) =>
    snake
      .split("_")
      .map((w) => (w[0] ?? "").toUpperCase() + w.slice(1))
      .join("");
  it.each([
    ["Connect JSON", "application/json", Buffer.from('{"name": "unterminated')],
    ["Connect proto", "application/proto", Buffer.from([0x0a, 0xff, 0xff])],
  ])("logs and counts a CreateSeries whose %s body does not decode, once", async (_, type, body) => {
    const method = "tdb.v1.TimeSeriesService/CreateSeries";
    const before = rpcLines(method).length;
    const metricsBefore = await metricsText();
    const a = await h1Call(server.listener.port, {
      method: "POST",
      path: `/${method}`,
      headers: { "content-type": type, "x-api-key": key },
      body,
    });
    expect(a.status).toBeGreaterThanOrEqual(400);
    const code = pascal(String(JSON.parse(String(a.body)).code));
    expect(code).not.toBe("Unauthenticated"); // the key is good: this is about the body
    await eventually("the call is logged", async () => rpcLines(method).length > before, 100);
    expect(rpcLines(method).length).toBe(before + 1);
    expect(rpcLines(method)[before]?.code).toBe(code);
    expect(countIn(await metricsText(), method, code)).toBe(countIn(metricsBefore, method, code) + 1);
  });

  it("logs and counts the same over gRPC, once, with the code the client got", async () => {
    const method = "tdb.v1.TimeSeriesService/CreateSeries";
    const before = rpcLines(method).length;
    const metricsBefore = await metricsText();
    const session = await h2Connect(url);
    let code = "";
    try {
      const a = await h2Call(
        session,
        grpcHeaders(`/${method}`, { "x-api-key": key }),
        envelope(Buffer.from([0x0a, 0xff, 0xff])),
      );
      code = Code[Number({ ...a.headers, ...a.trailers }["grpc-status"])] ?? "";
    } finally {
      session.close();
    }
    expect(code).not.toMatch(/^(OK|Unauthenticated|)$/);
    await eventually("the call is logged", async () => rpcLines(method).length > before, 100);
    expect(rpcLines(method).length).toBe(before + 1);
    expect(rpcLines(method)[before]?.code).toBe(code);
    expect(countIn(await metricsText(), method, code)).toBe(countIn(metricsBefore, method, code) + 1);
  });

  // A refusal before the body is read is still one line, with no tenant (there is none).
  it("logs a refused 12.8 MB upload once, as Unauthenticated, with no tenant or key", async () => {
    const method = "tdb.v1.TimeSeriesService/UploadBatch";
    const before = rpcLines(method).length;
    const req = http.request({
      host: "127.0.0.1",
      port: server.listener.port,
      method: "POST",
      path: `/${method}`,
      agent: false,
      headers: { "content-type": "application/json", "content-length": bigJsonBody.length },
    });
    req.on("error", () => {});
    await pump(req, bigJsonBody);
    await eventually("the call is logged", async () => rpcLines(method).length > before, 100);
    expect(rpcLines(method).length).toBe(before + 1);
    const line = rpcLines(method)[before];
    expect(line?.code).toBe("Unauthenticated");
    expect(line?.tenant).toBeUndefined();
    expect(line?.key).toBeUndefined();
  });
});
