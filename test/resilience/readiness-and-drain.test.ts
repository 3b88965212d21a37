import http from "node:http";
import net from "node:net";
import { Code } from "@connectrpc/connect";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.js";
import { TimeSeriesService } from "../../gen/tdb/v1/time_series_service_pb.js";
import { clientFor, failure } from "../helpers/clients.js";
import { type OwnPostgres, ownPostgres } from "../helpers/own-postgres.js";
import { type ServerProcess, spawnServer } from "../helpers/server-process.js";
import { backends, chunk, controlledUpload, eventually, seed } from "./streams.js";

/**
 * Readiness and drain (issue 10, point 4) with real processes and a real PostgreSQL that
 * is stopped and started under them: readiness follows the database and the drain, the
 * process never dies of either, and SIGTERM lets load balancers notice before the
 * listener closes and lets open streams finish. No durations are asserted: states are
 * polled in bounded loops (`eventually`) and events awaited.
 */
let db: OwnPostgres;
let server: ServerProcess;
let adminKey: string;

// Rate limits are not the subject; polling makes many calls with one key.
const env = { TDB_DEFAULT_RATE_LIMIT: "100000" };

beforeAll(async () => {
  db = await ownPostgres();
  server = await spawnServer(db.url, env);
  const key = /admin key: (tdbk_\w+)/.exec(server.output())?.[1];
  if (!key) throw new Error(`no admin key in the banner:\n${server.output()}`);
  adminKey = key;
}, 120_000);

// A test that failed with PostgreSQL stopped must not leave the next one without it.
afterEach(async () => {
  await db.start();
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await db?.destroy();
}, 120_000);

/** Status of GET `path` on a connection of its own (no keep-alive pool to go stale). */
function httpGet(baseUrl: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${baseUrl}${path}`, { agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
  });
}
const status = async (baseUrl: string, path: string) => (await httpGet(baseUrl, path)).status;

/** True when a new TCP connection to `port` is refused (the listener is closed). */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    // A connection the closing listener had queued but not accepted is reset: not yet refused.
    socket.once("error", (err: NodeJS.ErrnoException) =>
      err.code === "ECONNREFUSED" ? resolve(true) : err.code === "ECONNRESET" ? resolve(false) : reject(err),
    );
  });
}

const portOf = (url: string) => Number(new URL(url).port);

/** A fresh client (its own transport, so its own HTTP/2 connection). */
const timeSeries = (s: ServerProcess) => clientFor(TimeSeriesService, s.url, adminKey, "grpc");
const health = (s: ServerProcess) => clientFor(Health, s.url, undefined, "grpc");

/** One upload message: `n` points of `series` from `from` on. */
const points = (series: string, n: number, from: number) => ({ chunks: [chunk(series, n, from)] });

describe("readiness follows PostgreSQL", () => {
  // Guards: the probe of src/server/readiness.ts and its wiring to /readyz and gRPC health
  // (fails if readiness never turns 503/NOT_SERVING, if Watch misses a change, if /healthz
  // follows the database, if a call on a dead database is Internal or ends the process, or
  // if the server needs a restart to serve again once PostgreSQL is back).
  it("turns not ready when PostgreSQL stops, fails calls Unavailable, and serves again when it returns", async () => {
    const probe = health(server);
    const api = timeSeries(server);
    await api.createSeries({ name: "before-the-outage" });
    expect(await status(server.url, "/readyz")).toBe(200);
    expect(await status(server.url, "/healthz")).toBe(200);
    expect((await probe.check({})).status).toBe(Status.SERVING);

    // A Watch opened while all is well.
    const watchAbort = new AbortController();
    const watch = health(server).watch({}, { signal: watchAbort.signal })[Symbol.asyncIterator]();
    try {
      expect((await watch.next()).value?.status).toBe(Status.SERVING);

      await db.stop();
      await eventually("/readyz answers 503", async () => {
        // Liveness does not follow the database, at any moment of the outage.
        expect(await status(server.url, "/healthz")).toBe(200);
        return (await status(server.url, "/readyz")) === 503;
      });
      const readyz = await httpGet(server.url, "/readyz");
      expect(readyz).toEqual({ status: 503, body: "PostgreSQL is unreachable\n" });
      expect((await probe.check({})).status).toBe(Status.NOT_SERVING);
      expect((await watch.next()).value?.status).toBe(Status.NOT_SERVING);
      expect(await status(server.url, "/healthz")).toBe(200);

      const err = await failure(api.listSeries({}));
      expect(Code[err.code]).toBe("Unavailable");
      const err2 = await failure(api.createSeries({ name: "during-the-outage" }));
      expect(Code[err2.code]).toBe("Unavailable");
      expect(server.alive()).toBe(true);

      await db.start();
      await eventually("/readyz answers 200 again", async () => {
        expect(await status(server.url, "/healthz")).toBe(200);
        return (await status(server.url, "/readyz")) === 200;
      });
      expect((await watch.next()).value?.status).toBe(Status.SERVING);
      expect((await probe.check({})).status).toBe(Status.SERVING);
      // The same calls on the same process and the same client: no restart, no retry.
      expect((await api.listSeries({ name: "before-the-outage" })).series).toHaveLength(1);
      await api.createSeries({ name: "after-the-outage" });
      expect(server.alive()).toBe(true);
    } finally {
      watchAbort.abort();
    }
  });
});

describe("PostgreSQL stops with calls in flight", () => {
  // Guards: fault handling (point 1) when the whole database goes, not one backend: a read
  // being streamed and an upload mid-COPY both fail Unavailable (not Internal, not a hang,
  // not a crash), the interrupted upload's run rolls back, and the same process serves a
  // new upload once PostgreSQL is back.
  it("fails a slow read and an open upload with Unavailable, keeps running, and writes nothing of the upload", async () => {
    // Enough data that the read cannot sit in socket buffers whole: PostgreSQL must still be
    // sending when it stops.
    await seed(timeSeries(server), "bulk", 2_000_000);

    // The read: a slow client that takes one message and then nothing for now (backpressure
    // holds the read's COPY open in PostgreSQL).
    const readAbort = new AbortController();
    const read = timeSeries(server)
      .readValues({ name: "bulk", chunkSize: 1000 }, { signal: readAbort.signal })
      [Symbol.asyncIterator]();
    expect((await read.next()).done).toBe(false);

    // The upload: header and a chunk sent, COPY into staging under way, stream left open.
    // 16,384 points are two full blocks: the server writes both to the COPY at once
    // (ingest.ts flushes at 256 KB) and keeps nothing back, so with everything sent it
    // sits idle between messages, as an upload mostly does.
    const up = controlledUpload(timeSeries(server));
    up.send({ header: { workflowId: "pg-stopped", createMissingSeries: true }, chunks: [] });
    up.send(points("interrupted", 16_384, 0));
    try {
      await eventually("the read's and the upload's COPYs are both running", async () => {
        const rows = await backends(db.url, "query LIKE 'COPY%'");
        return (
          rows.some((r) => r.query.includes("TO STDOUT")) &&
          rows.some((r) => r.query.includes("COPY tdb_staging FROM STDIN"))
        );
      });
      // PostgreSQL has the two blocks (2 × 8192 × 16 bytes of times and values) and waits
      // for more: the server's write is complete, not waiting for the socket to drain.
      await eventually("the upload's blocks reached PostgreSQL", async () => {
        const c = new pg.Client({ connectionString: db.url });
        await c.connect();
        try {
          const { rows } = await c.query(
            `SELECT p.bytes_processed::int8 AS n, a.wait_event
               FROM pg_stat_progress_copy p JOIN pg_stat_activity a USING (pid)
              WHERE p.command = 'COPY FROM'`,
          );
          return Number(rows[0]?.n ?? 0) >= 262_144 && rows[0]?.wait_event === "ClientRead";
        } finally {
          await c.end();
        }
      });

      await db.stop();

      // The client goes on: the upload sends more and ends, the read takes the rest.
      up.send(points("interrupted", 16_384, 16_384));
      up.end();
      const uploadErr = await failure(up.result);
      const readErr = await failure(
        (async () => {
          // Bounded: 2 M points at 1000 a message.
          for (let i = 0; i < 3000; i++) if ((await read.next()).done) return;
          throw new Error("the read never ended");
        })(),
      );
      // Internal here means an error escaped the mapping to Unavailable: the server log has it.
      expect({ upload: Code[uploadErr.code], read: Code[readErr.code] }).toEqual({
        upload: "Unavailable",
        read: "Unavailable",
      });
      expect(server.alive()).toBe(true);
    } finally {
      readAbort.abort();
      up.end();
    }

    await db.start();
    await eventually("/readyz answers 200 again", async () => (await status(server.url, "/readyz")) === 200);
    const api = timeSeries(server);
    const later = await api.upload(
      (async function* () {
        yield { header: { workflowId: "pg-stopped", createMissingSeries: true } };
        yield points("after-restart", 1000, 0);
      })(),
    );
    expect(later.pointCount).toBe(1000n);
    expect((await api.listRuns({ workflowId: "pg-stopped" })).runs.map((r) => r.runId)).toEqual([
      later.runId,
    ]);
    expect((await api.listSeries({ name: "interrupted" })).series).toEqual([]);
    expect(server.alive()).toBe(true);
  });
});

describe("SIGTERM drains", () => {
  // Guards: the shutdown order of TdbServer.close() and main.ts. Fails if readiness does not
  // flip at once on SIGTERM, if the listener closes (or the process exits) before the
  // drain delay is over, if the grace period does not let an open upload finish, if the
  // exit code is not 0, or if the port still accepts connections afterwards.
  it("reports not ready at once, serves new calls during the drain delay, lets an open upload finish, exits 0", async () => {
    // 3 s, not 1: a new call must land between "/readyz is 503" and the listener closing,
    // and under a loaded test run one second is too close to scheduling noise.
    const draining = await spawnServer(db.url, { ...env, TDB_DRAIN_DELAY: "3", TDB_SHUTDOWN_GRACE: "10" });
    try {
      expect(await status(draining.url, "/readyz")).toBe(200);
      await timeSeries(draining).createSeries({ name: "served-while-draining" });

      const up = controlledUpload(timeSeries(draining));
      up.send({ header: { workflowId: "drained", createMissingSeries: true } });
      await eventually(
        "the upload's transaction is open",
        async () => (await backends(db.url, "query LIKE 'COPY tdb_staging FROM STDIN%'")).length > 0,
      );

      draining.signal("SIGTERM");
      await eventually("/readyz answers 503", async () => (await status(draining.url, "/readyz")) === 503);
      // At once, on a new connection: the listener is still open during the drain delay.
      const during = await timeSeries(draining).listSeries({ name: "served-while-draining" });
      expect(during.series.map((s) => s.name)).toEqual(["served-while-draining"]);
      expect((await health(draining).check({})).status).toBe(Status.NOT_SERVING);
      expect(await httpGet(draining.url, "/readyz")).toEqual({
        status: 503,
        body: "draining: the server is shutting down\n",
      });
      expect(await status(draining.url, "/healthz")).toBe(200);

      // After the delay the listener closes; the open upload keeps the process in its grace.
      await eventually("new connections are refused", () => refused(portOf(draining.url)));
      expect(draining.alive()).toBe(true);
      up.send(points("drained", 2, 0));
      up.end();
      const done = await up.result;
      expect(done.pointCount).toBe(2n);

      expect(await draining.exited).toBe(0);
      expect(await refused(portOf(draining.url))).toBe(true);
      const after = await failure(timeSeries(draining).listSeries({}));
      expect(Code[after.code]).toBe("Unavailable");

      // The drained upload was committed.
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      try {
        const { rows } = await c.query("SELECT point_count::int AS n FROM runs WHERE id = $1", [done.runId]);
        expect(rows).toEqual([{ n: 2 }]);
      } finally {
        await c.end();
      }
    } finally {
      await draining.stop();
    }
  });
});
