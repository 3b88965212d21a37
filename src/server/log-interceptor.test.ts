import { Writable } from "node:stream";
import {
  Code,
  ConnectError,
  createClient,
  createRouterTransport,
  type Interceptor,
} from "@connectrpc/connect";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { TimeSeriesService } from "../../gen/tdb/v1/time_series_service_pb.js";
import { principalKey } from "../auth/principal.js";
import { logCalls } from "./log-interceptor.js";

/** A client over an in-memory router whose calls are logged into `lines`. */
function setup() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  const caller: Interceptor = (next) => (req) => {
    req.contextValues.set(principalKey, {
      tenantId: "tenant-1",
      role: "admin",
      kind: "api_key",
      keyId: "key-1",
      allowedMethods: [],
      rateLimit: undefined,
      userId: undefined,
      userEmail: undefined,
    });
    return next(req);
  };
  const transport = createRouterTransport(
    (router) =>
      router.service(TimeSeriesService, {
        getSeries: () => ({ series: { name: "x" } }),
        listSeries: () => {
          throw new ConnectError("nothing here", Code.NotFound);
        },
        deleteSeries: () => {
          throw new Error("secret detail: tdbk_abc");
        },
        async *readValues() {
          yield { chunks: [] };
          throw new ConnectError("stream broke", Code.DataLoss);
        },
      }),
    { router: { interceptors: [logCalls(pino({ base: undefined }, sink)), caller] } },
  );
  return { lines, client: createClient(TimeSeriesService, transport) };
}

describe("logCalls", () => {
  it("logs one line per call with method, code, duration, tenant and key", async () => {
    const { lines, client } = setup();
    await client.getSeries({ seriesId: "1" });
    await client.listSeries({}).catch(() => {});
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      method: "tdb.v1.TimeSeriesService/GetSeries",
      code: "ok",
      tenant: "tenant-1",
      key: "key-1",
      msg: "rpc",
    });
    expect(lines[0]?.ms).toEqual(expect.any(Number));
    expect(lines[1]).toMatchObject({ method: "tdb.v1.TimeSeriesService/ListSeries", code: "NotFound" });
  });

  it("logs an unexpected error with its stack but answers Internal without details", async () => {
    const { lines, client } = setup();
    const err = await client.deleteSeries({ seriesId: "1" }).catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.Internal);
    expect((err as ConnectError).rawMessage).toBe("internal error");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ code: "Internal", err: { message: "secret detail: tdbk_abc" } });
  });

  it("logs a server stream when it ends, with the code it ended with", async () => {
    const { lines, client } = setup();
    const got: unknown[] = [];
    const err = await (async () => {
      for await (const r of client.readValues({})) got.push(r);
    })().catch((e: unknown) => ConnectError.from(e));
    expect(got).toHaveLength(1);
    expect((err as ConnectError).code).toBe(Code.DataLoss);
    expect(lines).toEqual([
      expect.objectContaining({ method: "tdb.v1.TimeSeriesService/ReadValues", code: "DataLoss" }),
    ]);
  });
});
