import { type Client, Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyAdminService } from "../../gen/tdb/v1/key_admin_service_pb.js";
import { Role } from "../../gen/tdb/v1/options_pb.js";
import { TimeSeriesService } from "../../gen/tdb/v1/time_series_service_pb.js";
import { clientFor, failure } from "../helpers/clients.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";
import { backends, controlledUpload, eventually, headerAndChunk, seed } from "./streams.js";

/**
 * Admission control (issue 10, point 2): streams cannot take what unary calls need, one
 * tenant's streams are capped per key and per tenant, a call that cannot get a connection
 * fails within a bound, and streams that idle or stall are ended and give their
 * connection back.
 */

type Ts = Client<typeof TimeSeriesService>;
const ts = (srv: TestServer, key: string): Ts => clientFor(TimeSeriesService, srv.url, key, "grpc");

/** Opens a read and takes its first message only: the server is left blocked on backpressure. */
async function unreadRead(client: Ts, series: string, signal: AbortSignal) {
  const it = client.readValues({ name: series, chunkSize: 1000 }, { signal })[Symbol.asyncIterator]();
  const first = await it.next();
  return { first, it };
}

describe("tenant A at every stream cap", () => {
  let srv: TestServer;
  const done = new AbortController();
  beforeAll(async () => {
    srv = await startTestServer({
      TDB_DB_POOL_SIZE: "8",
      TDB_DB_STREAM_CONNECTIONS: "4",
      TDB_STREAMS_PER_KEY: "2",
      TDB_STREAMS_PER_TENANT: "3",
      TDB_DB_ACQUIRE_TIMEOUT: "0.5",
    });
  });
  afterAll(async () => {
    done.abort();
    await srv?.close();
  });

  it("refuses A's streams beyond each cap while B's unary calls all succeed, and streams beyond the database budget fail ResourceExhausted", async () => {
    const admin = clientFor(KeyAdminService, srv.url, srv.adminKey, "grpc");
    const a1 = ts(srv, srv.adminKey);
    const a2 = ts(srv, (await admin.createKey({ name: "a2", role: Role.READWRITE })).rawKey);
    await seed(a1, "a-big", 2_000_000);

    // Key a1 holds two uploads that sent their header and then nothing.
    const uploads = [controlledUpload(a1, done.signal), controlledUpload(a1, done.signal)];
    for (const [i, u] of uploads.entries()) u.send(headerAndChunk(`held-${i}`));
    await eventually(
      "both uploads hold a COPY",
      async () => (await backends(srv.databaseUrl, "query LIKE 'COPY tdb_staging%'")).length === 2,
    );
    const third = await failure(a1.listRuns({}).then(() => unreadRead(a1, "a-big", done.signal)));
    expect(Code[third.code]).toBe("ResourceExhausted");
    expect(third.rawMessage).toMatch(/this key already has 2 open streams/);

    // Key a2 holds one unread read; its second stream is over the tenant's cap of 3.
    const held = await unreadRead(a2, "a-big", done.signal);
    expect(held.first.done).toBe(false);
    const fourth = await failure(unreadRead(a2, "a-big", done.signal));
    expect(Code[fourth.code]).toBe("ResourceExhausted");
    expect(fourth.rawMessage).toMatch(/this tenant already has 3 open streams/);

    // Tenant B: every unary call is served while A holds all it may.
    const b = await srv.newTenant();
    const bc = ts(srv, b.adminKey);
    const created = await bc.createSeries({ name: "b-series" });
    const calls = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        i % 3 === 0
          ? bc.listSeries({})
          : i % 3 === 1
            ? bc.getSeries({ seriesId: created.series?.seriesId ?? "" })
            : bc.uploadBatch({
                header: { createMissingSeries: true },
                chunks: [{ series: { name: `b-${i}` }, validTimes: [1n], values: [i] }],
              }),
      ),
    );
    expect(calls).toHaveLength(60);
    expect((await bc.listSeries({ pageSize: 1000 })).series).toHaveLength(21);

    // B's own stream takes the last of the 4 streaming connections...
    await seed(bc, "b-big", 2_000_000);
    const bHeld = await unreadRead(bc, "b-big", done.signal);
    expect(bHeld.first.done).toBe(false);
    // ...so a third tenant's stream waits at most TDB_DB_ACQUIRE_TIMEOUT and is refused,
    const c = await srv.newTenant();
    const cc = ts(srv, c.adminKey);
    const refused = await failure(
      cc.upload(
        (async function* () {
          yield headerAndChunk("c-series");
        })(),
      ),
    );
    expect(Code[refused.code]).toBe("ResourceExhausted");
    expect(refused.rawMessage).toMatch(/database connections for streaming calls .* busy.*retry/);
    // ...while its unary calls still find room in the pool.
    expect(
      (
        await cc.uploadBatch({
          header: { createMissingSeries: true },
          chunks: [{ series: { name: "c-batch" }, validTimes: [1n], values: [1] }],
        })
      ).pointCount,
    ).toBe(1n);
    for (const u of uploads) u.end();
    expect((await uploads[0]?.result)?.pointCount).toBe(10n);
  });
});

describe("streams that idle or stall", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({
      TDB_STREAM_IDLE_TIMEOUT: "1",
      TDB_READ_STALL_TIMEOUT: "1",
      TDB_STREAMS_PER_KEY: "1",
    });
    await seed(ts(srv, srv.adminKey), "big", 2_000_000);
  });
  afterAll(async () => {
    await srv?.close();
  });

  it("ends an upload that sends nothing after TDB_STREAM_IDLE_TIMEOUT, holding no connection meanwhile", async () => {
    const up = controlledUpload(ts(srv, srv.adminKey));
    const err = await failure(up.result);
    expect(Code[err.code]).toBe("DeadlineExceeded");
    expect(err.rawMessage).toMatch(/sent nothing for 1 s .*nothing was written/);
  });

  it("ends an upload that goes quiet after its header, rolls it back and frees its connection", async () => {
    const client = ts(srv, srv.adminKey);
    const before = (await client.listRuns({})).runs.length;
    const up = controlledUpload(client);
    up.send(headerAndChunk("went-quiet"));
    const err = await failure(up.result);
    expect(Code[err.code]).toBe("DeadlineExceeded");
    expect((await client.listRuns({})).runs).toHaveLength(before);
    expect(await backends(srv.databaseUrl, "query LIKE 'COPY tdb_staging%'")).toEqual([]);
    // The key's only stream slot is free again.
    up.end();
    const again = controlledUpload(client);
    again.send(headerAndChunk("after-quiet"));
    again.end();
    expect((await again.result).pointCount).toBe(10n);
  });

  it("ends a read whose client stops reading after TDB_READ_STALL_TIMEOUT and frees its connection and slot", async () => {
    const client = ts(srv, srv.adminKey);
    const stalled = await unreadRead(client, "big", new AbortController().signal);
    expect(stalled.first.done).toBe(false);
    await eventually(
      "the stalled read's COPY is gone",
      async () => (await backends(srv.databaseUrl, "query LIKE 'COPY (%' AND state <> 'idle'")).length === 0,
    );
    // The client finds its stream cut.
    await expect(
      (async () => {
        for (let r = await stalled.it.next(); !r.done; r = await stalled.it.next());
      })(),
    ).rejects.toThrow();
    // With TDB_STREAMS_PER_KEY=1 this read is only possible because the stalled one ended.
    let n = 0;
    for await (const r of client.readValues({ name: "big", chunkSize: 100_000 }))
      n += r.chunks[0]?.validTimes.length ?? 0;
    expect(n).toBe(2_000_000);
  });
});
