import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TimeSeriesService } from "../../gen/tdb/v1/time_series_service_pb.js";
import { clientFor } from "../helpers/clients.js";
import { readAll, us } from "../helpers/points.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

/** The seed notebook's walkthrough: two tenants, each uploads six hourly values and reads them back. */
let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  await srv?.close();
});

const hours = Array.from({ length: 6 }, (_, i) => us("2025-01-01T00:00:00Z") + BigInt(i) * 3_600_000_000n);

describe("seed walkthrough", () => {
  it("tenant A and tenant B each read back exactly their own six values", async () => {
    const b = await srv.newTenant("tenant-b-walkthrough");
    const clientA = clientFor(TimeSeriesService, srv.url, srv.adminKey, "grpc");
    const clientB = clientFor(TimeSeriesService, srv.url, b.adminKey, "connect");
    const temps = [20.1, 20.4, 21, 21.7, 22.2, 21.9];
    const hums = [55, 57, 60, 61, 58, 54];

    // Uploaded without creating the series first: the header asks for it.
    const upA = await clientA.upload(
      (async function* () {
        yield { header: { createMissingSeries: true, workflowId: "seed" } };
        yield {
          chunks: [
            {
              series: { name: "temperature_a", labels: { site: "a" } },
              validTimes: hours.slice(0, 3),
              values: temps.slice(0, 3),
            },
          ],
        };
        yield {
          chunks: [
            {
              series: { name: "temperature_a", labels: { site: "a" } },
              validTimes: hours.slice(3),
              values: temps.slice(3),
            },
          ],
        };
      })(),
    );
    expect(upA.pointCount).toBe(6n);
    const upB = await clientB.uploadBatch({
      header: { createMissingSeries: true, workflowId: "seed" },
      chunks: [{ series: { name: "humidity_b" }, validTimes: hours, values: hums }],
    });
    expect(upB.seriesCounts.map((c) => [c.name, c.pointCount])).toEqual([["humidity_b", 6n]]);

    const readA = await readAll(clientA, {});
    const readB = await readAll(clientB, {});
    expect(readA.map((r) => [r.valid, r.value])).toEqual(hours.map((h, i) => [h, temps[i]]));
    expect(readB.map((r) => [r.valid, r.value])).toEqual(hours.map((h, i) => [h, hums[i]]));
    expect(new Set(readA.map((r) => r.series))).toEqual(new Set([upA.seriesIds['temperature_a{site="a"}']]));
    expect(new Set(readB.map((r) => r.series))).toEqual(new Set([upB.seriesIds.humidity_b]));
  });

  it("no key and a bad key are both Unauthenticated", async () => {
    for (const key of [undefined, "tdbk_not_a_real_key", `tdbk_${"0".repeat(49)}`]) {
      const err = await clientFor(TimeSeriesService, srv.url, key)
        .listSeries({})
        .catch((e: unknown) => ConnectError.from(e));
      expect(err, String(key)).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code).toBe(Code.Unauthenticated);
    }
  });
});
