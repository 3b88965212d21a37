import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import http2 from "node:http2";
import https from "node:https";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TLSSocket } from "node:tls";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TimeSeriesService } from "../../gen/tdb/v1/time_series_service_pb.js";
import { listen } from "../../src/server/listener.js";
import { clientFor } from "../helpers/clients.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

/** https.request accepts TLS options such as ALPNProtocols; its typings only know part of them. */
const tlsOptions = (o: https.RequestOptions & { ALPNProtocols: string[] }): https.RequestOptions => o;

describe("TLS with ALPN on the same port", () => {
  let srv: TestServer;
  let ca: Buffer;
  beforeAll(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "tdb-tls-"));
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=IP:127.0.0.1,DNS:localhost",
        "-keyout",
        path.join(dir, "key.pem"),
        "-out",
        path.join(dir, "cert.pem"),
      ],
      { stdio: "ignore" },
    );
    ca = readFileSync(path.join(dir, "cert.pem"));
    srv = await startTestServer({
      TDB_TLS_CERT: path.join(dir, "cert.pem"),
      TDB_TLS_KEY: path.join(dir, "key.pem"),
    });
  });
  afterAll(async () => {
    await srv?.close();
  });

  it("serves HTTP/1.1 over TLS (ALPN http/1.1)", async () => {
    const body = await new Promise<{ status: number; alpn: string | false | null; text: string }>(
      (resolve, reject) => {
        const req = https.request(
          tlsOptions({
            host: "127.0.0.1",
            port: srv.port,
            path: "/healthz",
            ca,
            ALPNProtocols: ["http/1.1"],
            agent: false,
          }),
          (res) => {
            const alpn = (res.socket as TLSSocket).alpnProtocol;
            let text = "";
            res.on("data", (d) => (text += d));
            res.on("end", () =>
              resolve({
                status: res.statusCode ?? 0,
                alpn,
                text,
              }),
            );
          },
        );
        req.on("error", reject);
        req.end();
      },
    );
    expect(body).toEqual({ status: 200, alpn: "http/1.1", text: "ok\n" });
  });

  it("serves HTTP/2 over TLS (ALPN h2)", async () => {
    const session = http2.connect(`https://127.0.0.1:${srv.port}`, { ca });
    try {
      const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const stream = session.request({ ":path": "/healthz" });
        let status = 0;
        let text = "";
        stream.on("response", (h) => (status = Number(h[":status"])));
        stream.on("data", (d) => (text += d));
        stream.on("end", () => resolve({ status, text }));
        stream.on("error", reject);
      });
      expect(res).toEqual({ status: 200, text: "ok\n" });
      expect(session.alpnProtocol).toBe("h2");
    } finally {
      session.close();
    }
  });
});

describe("HTTP/1.1 behind the sniffer keeps its header timeout", () => {
  it("disconnects a client that never finishes its headers (slowloris)", async () => {
    const l = await listen(((_req: unknown, res: { end(s: string): void }) => res.end("hi")) as never, {
      host: "127.0.0.1",
      port: 0,
      headersTimeoutMs: 1000,
    });
    try {
      const socket = net.connect(l.port, "127.0.0.1");
      await new Promise((r) => socket.once("connect", r));
      socket.write("GET / HTTP/1.1\r\nHost: x\r\n"); // never sends the blank line
      // The server closes the socket; if the checker never ran, the test would time out.
      const closedBy = await new Promise<string>((resolve) => {
        socket.on("data", (d) => resolve(String(d).split("\r\n")[0] ?? ""));
        socket.on("close", () => resolve("close"));
      });
      expect(closedBy).toMatch(/^(HTTP\/1.1 408|close)/);
    } finally {
      await l.close(100);
    }
  });
});

describe("graceful shutdown", () => {
  it("lets an open upload stream finish, then refuses new connections", async () => {
    const srv = await startTestServer();
    const client = clientFor(TimeSeriesService, srv.url, srv.adminKey, "grpc");
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const upload = client.upload(
      (async function* () {
        yield { header: { createMissingSeries: true } };
        await gate; // the server is closing while this stream is open
        yield { chunks: [{ series: { name: "drained" }, validTimes: [1n, 2n], values: [1, 2] }] };
      })(),
    );
    await new Promise((r) => setTimeout(r, 200));
    const closing = srv.server.close();
    await new Promise((r) => setTimeout(r, 200));
    release();
    const res = await upload;
    expect(res.pointCount).toBe(2n);
    await closing;
    const after = await clientFor(TimeSeriesService, srv.url, srv.adminKey, "connect")
      .listSeries({})
      .catch((e: unknown) => ConnectError.from(e));
    expect((after as ConnectError).code).toBe(Code.Unavailable);
    const { rows } = await srv.pool.query("SELECT COALESCE(sum(n), 0)::int AS n FROM point_blocks");
    expect(rows[0].n).toBe(2);
    await srv.close().catch(() => {});
  });
});

describe("limits", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ TDB_MAX_UPLOAD_POINTS: "1000", TDB_MAX_MESSAGE_BYTES: "65536" });
  });
  afterAll(async () => {
    await srv?.close();
  });

  it("refuses an upload with too many points, naming the chunk, and writes nothing", async () => {
    const client = clientFor(TimeSeriesService, srv.url, srv.adminKey, "grpc");
    const times = (from: number) => Array.from({ length: 600 }, (_, i) => BigInt(from + i) * 1_000_000n);
    const err = await client
      .upload(
        (async function* () {
          yield { header: { createMissingSeries: true } };
          yield {
            chunks: [{ series: { name: "big" }, validTimes: times(0), values: times(0).map(() => 1) }],
          };
          yield {
            chunks: [{ series: { name: "big" }, validTimes: times(600), values: times(600).map(() => 1) }],
          };
        })(),
      )
      .catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    expect((err as ConnectError).rawMessage).toMatch(/^chunks\[1\]: upload exceeds 1000 points/);
    const { rows } = await srv.pool.query("SELECT COALESCE(sum(n), 0)::int AS n FROM point_blocks");
    expect(rows[0].n).toBe(0);
  });

  it("refuses an oversized message with ResourceExhausted (the gRPC convention) and keeps serving", async () => {
    const client = clientFor(TimeSeriesService, srv.url, srv.adminKey, "grpc");
    const times = Array.from({ length: 10_000 }, (_, i) => BigInt(i) * 1_000_000n);
    const err = await client
      .uploadBatch({
        header: { createMissingSeries: true },
        chunks: [{ series: { name: "huge" }, validTimes: times, values: times.map(() => 1.5) }],
      })
      .catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.ResourceExhausted);
    expect((err as ConnectError).rawMessage).toMatch(
      /message size .* is larger than configured readMaxBytes 65536/,
    );
    expect((await client.listSeries({})).series).toEqual([]);
  });
});
