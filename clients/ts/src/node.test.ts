import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UploadRequestSchema } from "./gen/tdb/v1/time_series_service_pb.js";
import { startTestServer, type TestServer } from "../../../test/helpers/test-server.js";
import { createTdbClient, type TdbProtocol, TimeSeriesService } from "./node.js";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  await srv?.close();
});

const t0 = 1_700_000_000_000_000n;
const protocols: TdbProtocol[] = ["grpc", "connect", "grpc-web"];

describe.each(protocols)("createTdbClient over %s", (protocol) => {
  it("streams an upload with the API key and reads the values back", async () => {
    const tdb = createTdbClient(TimeSeriesService, { baseUrl: srv.url, apiKey: srv.adminKey, protocol });
    const name = `client_${protocol}`;
    async function* messages(): AsyncGenerator<MessageInitShape<typeof UploadRequestSchema>> {
      yield { header: { workflowId: "client-test", createMissingSeries: true } };
      for (let i = 0n; i < 3n; i++) {
        yield { chunks: [{ series: { name }, validTimes: [t0 + i], values: [Number(i)] }] };
      }
    }
    const up = await tdb.upload(messages());
    expect(up.pointCount).toBe(3n);

    const values: number[] = [];
    for await (const res of tdb.readValues({ name })) {
      for (const c of res.chunks) values.push(...c.values);
    }
    expect(values).toEqual([0, 1, 2]);
  });

  it("surfaces a missing key as Unauthenticated", async () => {
    const tdb = createTdbClient(TimeSeriesService, { baseUrl: srv.url, protocol });
    const err = await tdb.listSeries({}).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.Unauthenticated);
  });
});

it("lets a call override the key with its own x-api-key header", async () => {
  const other = await srv.newTenant();
  const tdb = createTdbClient(TimeSeriesService, { baseUrl: srv.url, apiKey: srv.adminKey });
  await tdb.createSeries({ name: "only_in_b" }, { headers: { "x-api-key": other.adminKey } });
  const inB = await tdb.listSeries({ name: "only_in_b" }, { headers: { "x-api-key": other.adminKey } });
  const inA = await tdb.listSeries({ name: "only_in_b" });
  expect(inB.series.map((s) => s.name)).toEqual(["only_in_b"]);
  expect(inA.series).toEqual([]);
});
