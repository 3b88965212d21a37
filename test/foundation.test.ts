import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TimeSeriesService } from "../gen/tdb/v1/time_series_service_pb.js";
import { ReadMode } from "../gen/tdb/v1/types_pb.js";
import { ConfigError, loadConfig } from "../src/config.js";
import { clientFor, protocols } from "./helpers/clients.js";
import { startTestServer, type TestServer } from "./helpers/test-server.js";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  await srv?.close();
});

const hour = 3_600_000_000n;
const t0 = 1_700_000_000_000_000n;

describe.each(protocols)("vertical slice over %s", (protocol) => {
  it("creates a series, uploads a batch and reads it back (LATEST)", async () => {
    const client = clientFor(TimeSeriesService, srv.url, srv.adminKey, protocol);
    const name = `slice_${protocol}`;
    const { series } = await client.createSeries({ name, labels: { site: "a" }, unit: "degC" });
    expect(series?.name).toBe(name);
    const up = await client.uploadBatch({
      header: { workflowId: "slice" },
      chunks: [
        {
          series: { seriesId: series?.seriesId },
          validTimes: [t0, t0 + hour, t0 + 2n * hour],
          values: [1.5, 2.5, 3.5],
        },
      ],
    });
    expect(up.pointCount).toBe(3n);
    const values: number[] = [];
    const times: bigint[] = [];
    for await (const res of client.readValues({
      seriesIds: [series?.seriesId ?? ""],
      mode: ReadMode.LATEST,
    })) {
      for (const c of res.chunks) {
        values.push(...c.values);
        times.push(...c.validTimes);
      }
    }
    expect(values).toEqual([1.5, 2.5, 3.5]);
    expect(times).toEqual([t0, t0 + hour, t0 + 2n * hour]);
  });

  it("refuses a call without a key as Unauthenticated", async () => {
    const client = clientFor(TimeSeriesService, srv.url, undefined, protocol);
    const err = await client.listSeries({}).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.Unauthenticated);
    expect((err as ConnectError).rawMessage).toMatch(/API key required/);
  });
});

describe("plain HTTP on the same port", () => {
  it("answers GET /healthz", async () => {
    const res = await fetch(`${srv.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ok\n");
  });

  it("serves Prometheus metrics that count RPCs", async () => {
    const text = await (await fetch(`${srv.url}/metrics`)).text();
    expect(text).toMatch(/tdb_rpc_total\{method="tdb.v1.TimeSeriesService\/CreateSeries",code="OK"\} \d+/);
  });

  it("answers Connect JSON over HTTP/1.1 with the key as a bearer token", async () => {
    const res = await fetch(`${srv.url}/tdb.v1.TimeSeriesService/ListSeries`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${srv.adminKey}` },
      body: "{}",
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { series: unknown[] };
    expect(body.series.length).toBeGreaterThan(0);
  });
});

describe("configuration", () => {
  it("names the bad variable in one line", () => {
    expect(() => loadConfig({ TDB_PORT: "eighty" })).toThrow(ConfigError);
    expect(() => loadConfig({ TDB_PORT: "eighty" })).toThrow(/^invalid TDB_PORT: /);
    expect(() => loadConfig({ TDB_DATABASE_URL: "mysql://x" })).toThrow(/invalid TDB_DATABASE_URL/);
    expect(() => loadConfig({ TDB_TLS_CERT: "/x.pem" })).toThrow(/TDB_TLS_KEY must be set together/);
  });

  it("has the documented defaults", () => {
    const c = loadConfig({});
    expect([c.TDB_HOST, c.TDB_PORT, c.TDB_DATA_DIR, c.TDB_DEFAULT_RATE_LIMIT]).toEqual([
      "127.0.0.1",
      8080,
      ".tdb",
      60,
    ]);
  });
});
