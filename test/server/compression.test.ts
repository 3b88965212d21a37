import http from "node:http";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

/** A raw Connect unary call, so the response's own headers and bytes can be looked at. */
function call(
  srv: TestServer,
  method: string,
  body: Buffer,
  headers: Record<string, string>,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${srv.url}/tdb.v1.TimeSeriesService/${method}`,
      {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": srv.adminKey, ...headers },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on("data", (d: Buffer) => parts.push(d));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const listing = Buffer.from(JSON.stringify({}));

describe("response compression", () => {
  let plain: TestServer;
  let compressing: TestServer;
  beforeAll(async () => {
    plain = await startTestServer();
    compressing = await startTestServer({ TDB_COMPRESS_MIN_BYTES: "1" });
    for (const srv of [plain, compressing])
      for (let i = 0; i < 20; i++)
        await call(
          srv,
          "CreateSeries",
          Buffer.from(JSON.stringify({ name: `c${i}`, kind: "SERIES_KIND_ACTUAL" })),
          {},
        );
  });
  afterAll(async () => {
    await plain?.close();
    await compressing?.close();
  });

  it("is off by default, even when the client accepts gzip", async () => {
    const res = await call(plain, "ListSeries", listing, { "accept-encoding": "gzip" });
    expect(res.status).toBe(200);
    expect(res.headers["content-encoding"]).toBeUndefined();
    expect(JSON.parse(res.body.toString()).series).toHaveLength(20);
  });

  it("compresses responses from TDB_COMPRESS_MIN_BYTES on", async () => {
    const res = await call(compressing, "ListSeries", listing, { "accept-encoding": "gzip" });
    expect(res.headers["content-encoding"]).toBe("gzip");
    expect(JSON.parse(gunzipSync(res.body).toString()).series).toHaveLength(20);
  });

  it("accepts a gzip-compressed request by default", async () => {
    const res = await call(plain, "ListSeries", gzipSync(listing), { "content-encoding": "gzip" });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString()).series).toHaveLength(20);
  });
});
