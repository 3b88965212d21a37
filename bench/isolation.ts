import { setMaxListeners } from "node:events";
import http2 from "node:http2";
import { TimeSeriesService } from "../gen/tdb/v1/time_series_service_pb.js";
import { type BenchEnv, grpcClient, isMain, startBenchEnv } from "./lib/env.js";
import { type CallFigures, load } from "./small-calls.js";

/**
 * What one tenant's load costs another (issue 10): tenant B's unary calls (GetSeries and
 * ListSeries, 32 concurrent, closed loop) alone, then while tenant A holds every stream it
 * may (TDB_STREAMS_PER_TENANT: idle uploads that sent their header and reads it does not
 * read) and keeps trying for more, then while unauthenticated clients send 12 MB bodies.
 * All three in the same run, so the ratios hold on a shared machine.
 */
export async function benchIsolation(env: BenchEnv, seconds = 5): Promise<CallFigures[]> {
  // Many calls share each controller's signal.
  setMaxListeners(0);
  const a = await env.newTenant("iso-a");
  const a2 = await env.newKey(a.tenantId, "iso-a2");
  const b = await env.newTenant("iso-b");
  const at = grpcClient(TimeSeriesService, env.server.url, a.key);
  const at2 = grpcClient(TimeSeriesService, env.server.url, a2);
  const bt = grpcClient(TimeSeriesService, env.server.url, b.key);
  await upload(at, "a-big", 2_000_000);
  const { series } = await bt.createSeries({ name: "b-one" });
  const seriesId = series?.seriesId ?? "";
  const bCall = async () => {
    await bt.getSeries({ seriesId });
    await bt.listSeries({ pageSize: 10 });
  };

  const alone = await load("B alone", bCall, seconds);

  // A at its caps: 4 streams on one key (the per-key cap), 2 on another (the tenant's 6).
  const hold = new AbortController();
  const held: Promise<unknown>[] = [];
  for (let i = 0; i < 2; i++) held.push(idleUpload(at, `a-idle-${i}`, hold.signal));
  for (let i = 0; i < 2; i++) held.push(unreadRead(at, "a-big", hold.signal));
  for (let i = 0; i < 2; i++) held.push(unreadRead(at2, "a-big", hold.signal));
  await new Promise((r) => setTimeout(r, 500));
  let refused = 0;
  const pester = (async () => {
    while (!hold.signal.aborted) {
      await unreadRead(at2, "a-big", hold.signal).catch(() => refused++);
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  const beside = await load("B while A holds its 6 streams", bCall, seconds);
  hold.abort();
  await Promise.allSettled([...held, pester]);

  // Unauthenticated 12 MB bodies, 8 at a time: refused before they are read.
  const flood = new AbortController();
  const floods = Array.from({ length: 8 }, () => unauthenticatedBodies(env.server.url, flood.signal));
  const flooded = await load("B under 8 unauthenticated 12 MB bodies", bCall, seconds);
  flood.abort();
  await Promise.allSettled(floods);
  console.log(`  (A's extra streams refused meanwhile: ${refused})`);
  return [alone, beside, flooded];
}

async function upload(
  client: ReturnType<typeof grpcClient<typeof TimeSeriesService>>,
  name: string,
  n: number,
) {
  async function* messages() {
    const step = 50_000;
    for (let from = 0; from < n; from += step) {
      const chunk = {
        series: { name },
        validTimes: Array.from({ length: step }, (_, i) => BigInt(from + i + 1) * 1_000_000n),
        values: Array.from({ length: step }, (_, i) => i),
      };
      yield from === 0 ? { header: { createMissingSeries: true }, chunks: [chunk] } : { chunks: [chunk] };
    }
  }
  await client.upload(messages());
}

/** An upload that sends its header and one point, then nothing until `signal`. */
function idleUpload(
  client: ReturnType<typeof grpcClient<typeof TimeSeriesService>>,
  name: string,
  signal: AbortSignal,
) {
  async function* messages() {
    yield {
      header: { createMissingSeries: true },
      chunks: [{ series: { name }, validTimes: [1n], values: [1] }],
    };
    await aborted(signal);
  }
  return client.upload(messages(), { signal }).catch(() => {});
}

/** A read whose first message is taken and the rest left unread until `signal`. */
async function unreadRead(
  client: ReturnType<typeof grpcClient<typeof TimeSeriesService>>,
  name: string,
  signal: AbortSignal,
) {
  const it = client.readValues({ name, chunkSize: 1000 }, { signal })[Symbol.asyncIterator]();
  await it.next();
  await aborted(signal);
}

/** Resolves when `signal` aborts (at once if it already has). */
function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((r) => signal.addEventListener("abort", () => r(), { once: true }));
}

/** Sends 12 MB gRPC UploadBatch bodies without a key, one after another, until `signal`. */
async function unauthenticatedBodies(url: string, signal: AbortSignal): Promise<void> {
  const size = 12 * 1024 * 1024;
  const head = Buffer.alloc(5);
  head.writeUInt32BE(size, 1);
  const piece = Buffer.alloc(64 * 1024);
  while (!signal.aborted) {
    const session = http2.connect(url);
    session.on("error", () => {});
    await new Promise<void>((resolve) => {
      const req = session.request({
        ":method": "POST",
        ":path": "/tdb.v1.TimeSeriesService/UploadBatch",
        "content-type": "application/grpc",
        te: "trailers",
      });
      req.on("error", () => resolve());
      req.on("close", () => resolve());
      req.resume();
      req.write(head);
      // Written as a client would, with backpressure (the client's own session memory is bounded).
      let sent = 0;
      const pump = () => {
        while (sent < size && !req.closed) {
          sent += piece.length;
          if (!req.write(piece)) return void req.once("drain", pump);
        }
        if (!req.closed) req.end();
      };
      pump();
    });
    session.destroy();
  }
}

export function printIsolation(f: CallFigures[]): void {
  console.log("\n== isolation: tenant B's unary calls (one op = GetSeries + ListSeries), 32 concurrent ==");
  const base = f[0];
  for (const c of f) {
    const ratio = base
      ? ` p50 ×${(c.p50Ms / base.p50Ms).toFixed(2)}, p99 ×${(c.p99Ms / base.p99Ms).toFixed(2)} of B alone`
      : "";
    console.log(
      `  ${c.name.padEnd(42)} ${c.callsPerSecond.toFixed(0).padStart(6)} ops/s  p50 ${c.p50Ms.toFixed(1)} ms  p99 ${c.p99Ms.toFixed(1)} ms ${ratio}`,
    );
  }
}

if (isMain(import.meta.url)) {
  const env = await startBenchEnv();
  try {
    printIsolation(await benchIsolation(env));
  } finally {
    await env.stop();
  }
}
