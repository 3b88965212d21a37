import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TimeSeriesService } from "../../gen/tdb/v1/time_series_service_pb.js";
import { clientFor, protocols } from "../helpers/clients.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

/**
 * Readers learn which series a chunk belongs to by name: the first chunk of each series in
 * a ReadValues stream carries its name and labels beside the id; later chunks of the same
 * series carry the id only (the name is sent once, not per chunk).
 */
let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
  const client = clientFor(TimeSeriesService, srv.url, srv.adminKey, "grpc");
  const points = (n: number) => ({
    validTimes: Array.from({ length: n }, (_, i) => BigInt(i + 1) * 1_000_000n),
    values: Array.from({ length: n }, (_, i) => i),
  });
  await client.uploadBatch({
    header: { createMissingSeries: true },
    chunks: [
      { series: { name: "power", labels: { site: "a" } }, ...points(25) },
      { series: { name: "power", labels: { site: "b" } }, ...points(25) },
    ],
  });
});
afterAll(async () => {
  await srv?.close();
});

describe("series names in read streams", () => {
  for (const protocol of protocols) {
    it(`names each series once, in its first chunk (${protocol})`, async () => {
      const client = clientFor(TimeSeriesService, srv.url, srv.adminKey, protocol);
      const refs: { id: string; name: string; labels: Record<string, string>; n: number }[] = [];
      for await (const res of client.readValues({ name: "power", chunkSize: 10 }))
        for (const c of res.chunks)
          refs.push({
            id: c.series?.seriesId ?? "",
            name: c.series?.name ?? "",
            labels: { ...c.series?.labels },
            n: c.validTimes.length,
          });
      // 25 points per series, at most 10 per response message: several chunks per series.
      expect(refs.reduce((n, r) => n + r.n, 0)).toBe(50);
      const ids = [...new Set(refs.map((r) => r.id))];
      expect(ids).toHaveLength(2);
      const named = ids.map((id) => refs.find((r) => r.id === id));
      // Series come in id order (random ids): compare as a set.
      const pairs = named.map((r) => [r?.name, r?.labels]);
      expect(pairs).toHaveLength(2);
      expect(pairs).toEqual(
        expect.arrayContaining([
          ["power", { site: "a" }],
          ["power", { site: "b" }],
        ]),
      );
      const later = refs.filter((r) => !named.includes(r));
      expect(later.length).toBeGreaterThanOrEqual(4);
      for (const r of later) expect([r.name, r.labels]).toEqual(["", {}]);
    });
  }
});
