import { Code } from "@connectrpc/connect";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TimeSeriesService } from "../../gen/tdb/v1/time_series_service_pb.js";
import { clientFor, failure } from "../helpers/clients.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";
import { backends, chunk, controlledUpload, eventually, headerAndChunk, seed, terminate } from "./streams.js";

/**
 * Database faults under calls in flight (issue 10, point 1): PostgreSQL ends the
 * connection of an upload or a read. The call fails `Unavailable` (retryable) and writes
 * nothing, the process lives on, and the next call is served. Before the fix each of these
 * ended the process with an unhandled 'error' event.
 */
let srv: TestServer;
const client = () => clientFor(TimeSeriesService, srv.url, srv.adminKey, "grpc");

beforeAll(async () => {
  srv = await startTestServer();
  // Far more than socket buffers and flow-control windows hold, so a read is mid-COPY.
  await seed(client(), "big", 2_000_000);
});
afterAll(async () => {
  await srv?.close();
});

async function runCount(): Promise<number> {
  return (await client().listRuns({})).runs.length;
}

describe("a lost database connection", () => {
  it("fails an upload whose backend is terminated with Unavailable, writes nothing, and serves the next call", async () => {
    const before = await runCount();
    const up = controlledUpload(client());
    up.send(headerAndChunk("terminated-upload"));
    // The upload's COPY into its staging table waits for the next message.
    const copying = "query LIKE 'COPY tdb_staging%'";
    await eventually(
      "the upload's COPY is open",
      async () => (await backends(srv.databaseUrl, copying)).length > 0,
    );
    expect(await terminate(srv.databaseUrl, copying)).toBe(1);
    up.send({ chunks: [chunk("terminated-upload", 10, 100)] });
    up.end();
    const err = await failure(up.result);
    expect(Code[err.code]).toBe("Unavailable");
    expect(err.rawMessage).toMatch(/rolled back/);
    expect(await runCount()).toBe(before);
    expect((await client().listSeries({ name: "terminated-upload" })).series).toEqual([]);
  });

  it("fails a read whose backend is terminated mid-result with Unavailable", async () => {
    const it = client().readValues({ name: "big", chunkSize: 1000 })[Symbol.asyncIterator]();
    expect((await it.next()).done).toBe(false);
    // The read's COPY is suspended by backpressure (the client takes nothing more).
    await eventually(
      "the read's COPY is running",
      async () => (await backends(srv.databaseUrl, "query LIKE 'COPY%'")).length > 0,
    );
    await terminate(srv.databaseUrl, "query LIKE 'COPY%'");
    const err = await failure(
      (async () => {
        for (let r = await it.next(); !r.done; r = await it.next());
      })(),
    );
    expect(Code[err.code]).toBe("Unavailable");
    // The server is still there and reads again.
    expect(
      (
        await client().getSeries({
          seriesId: (await client().listSeries({ name: "big" })).series[0]?.seriesId ?? "",
        })
      ).series?.name,
    ).toBe("big");
  });

  it("holds no transaction for an upload that has not sent its header, so idle_in_transaction_session_timeout cannot end it", async () => {
    // The red team's crash: with this timeout set, an Upload that sent nothing held an open
    // transaction, PostgreSQL ended it, and the unhandled 'error' ended the process.
    await setDatabase(srv.databaseUrl, "idle_in_transaction_session_timeout = '500ms'");
    try {
      const up = controlledUpload(client());
      // Twice the timeout with nothing sent: no transaction of it may be open meanwhile.
      await new Promise((r) => setTimeout(r, 1000));
      expect(await backends(srv.databaseUrl, "state LIKE 'idle in transaction%'")).toEqual([]);
      up.send(headerAndChunk("late-header"));
      up.end();
      expect((await up.result).pointCount).toBe(10n);
    } finally {
      await setDatabase(srv.databaseUrl, "idle_in_transaction_session_timeout TO DEFAULT");
    }
  });

  it("discards every pooled connection PostgreSQL ended and serves the next calls on fresh ones", async () => {
    // Idle pooled connections, the readiness probe's, all of them at once.
    await Promise.all(Array.from({ length: 5 }, () => client().listSeries({})));
    expect(await terminate(srv.databaseUrl, "true")).toBeGreaterThan(0);
    for (let i = 0; i < 30; i++) expect((await client().listSeries({ name: "big" })).series).toHaveLength(1);
  });
});

/** Sets a parameter for new sessions of the test database, and ends the old sessions. */
async function setDatabase(url: string, setting: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const db = (await c.query("SELECT current_database() AS d")).rows[0].d as string;
    await c.query(`ALTER DATABASE "${db}" SET ${setting}`);
  } finally {
    await c.end();
  }
  await terminate(url, "true");
}
