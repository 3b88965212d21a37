import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

// An independent gRPC stack: @grpc/grpc-js over h2c, with messages described by proto-loader
// straight from proto/ (protobufjs), not by the protobuf-es code the server uses.
const root = path.resolve(import.meta.dirname, "../..");
const definition = protoLoader.loadSync("tdb/v1/time_series_service.proto", {
  includeDirs: [path.join(root, "proto"), path.join(root, "third_party")],
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});

/** The plain objects proto-loader reads and writes (int64 as decimal strings). */
interface PointChunkJs {
  series: { name: string; seriesId?: string };
  validTimes: string[];
  values: number[];
}
interface UploadRequestJs {
  header?: { workflowId: string; createMissingSeries: boolean };
  chunks?: PointChunkJs[];
}
interface UploadResponseJs {
  runId: string;
  pointCount: string;
  seriesIds: Record<string, string>;
}
interface ReadValuesResponseJs {
  chunks: PointChunkJs[];
}
interface TimeSeriesClient extends grpc.Client {
  Upload(
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<UploadResponseJs>,
  ): grpc.ClientWritableStream<UploadRequestJs>;
  ReadValues(
    request: { name: string; chunkSize: number },
    metadata: grpc.Metadata,
  ): grpc.ClientReadableStream<ReadValuesResponseJs>;
}

const TimeSeriesService = (
  grpc.loadPackageDefinition(definition) as unknown as {
    tdb: {
      v1: { TimeSeriesService: new (address: string, creds: grpc.ChannelCredentials) => TimeSeriesClient };
    };
  }
).tdb.v1.TimeSeriesService;

const total = 100_000;
const perMessage = 12_500; // 8 messages
const t0 = 1_700_000_000_000_000n;
const step = 60_000_000n; // one point per minute

function keyMetadata(key: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set("x-api-key", key);
  return md;
}

/** Streams the messages with flow control (waits for 'drain'), resolves with the response. */
function upload(client: TimeSeriesClient, key: string, messages: Iterable<UploadRequestJs>) {
  return new Promise<UploadResponseJs>((resolve, reject) => {
    const call = client.Upload(keyMetadata(key), (err, res) => (err || !res ? reject(err) : resolve(res)));
    (async () => {
      for (const m of messages) {
        if (!call.write(m)) await new Promise((r) => call.once("drain", r));
      }
      call.end();
    })().catch(reject);
  });
}

function* points(name: string): Generator<UploadRequestJs> {
  yield { header: { workflowId: "grpc-js", createMissingSeries: true } };
  for (let start = 0; start < total; start += perMessage) {
    const validTimes: string[] = [];
    const values: number[] = [];
    for (let i = start; i < start + perMessage; i++) {
      validTimes.push((t0 + BigInt(i) * step).toString());
      values.push(i * 0.5);
    }
    yield { chunks: [{ series: { name }, validTimes, values }] };
  }
}

describe("@grpc/grpc-js client over h2c", () => {
  let srv: TestServer;
  let client: TimeSeriesClient;
  beforeAll(async () => {
    srv = await startTestServer();
    client = new TimeSeriesService(`127.0.0.1:${srv.port}`, grpc.credentials.createInsecure());
  });
  afterAll(async () => {
    client?.close();
    await srv?.close();
  });

  it("streams an Upload of 100,000 points in several messages and reads them all back", async () => {
    const name = "grpc_js_100k";
    const res = await upload(client, srv.adminKey, points(name));
    expect(res.pointCount).toBe(String(total));
    expect(res.runId).not.toBe("");
    expect(Object.keys(res.seriesIds)).toEqual([name]);

    let count = 0;
    let sum = 0;
    let first: string | undefined;
    let last: string | undefined;
    const stream = client.ReadValues({ name, chunkSize: 50_000 }, keyMetadata(srv.adminKey));
    for await (const msg of stream as AsyncIterable<ReadValuesResponseJs>) {
      for (const c of msg.chunks) {
        count += c.validTimes.length;
        for (const v of c.values) sum += v;
        first ??= c.validTimes[0];
        last = c.validTimes.at(-1);
      }
    }
    expect(count).toBe(total);
    expect(sum).toBe((0.5 * (total * (total - 1))) / 2);
    expect(first).toBe(t0.toString());
    expect(last).toBe((t0 + BigInt(total - 1) * step).toString());
  }, 180_000); // generous: two shared cores also run PostgreSQL and the other suites

  it("gets Unauthenticated with a status code grpc-js understands for a bad key", async () => {
    const err = await upload(client, "tdbk_wrong", [
      { header: { workflowId: "grpc-js", createMissingSeries: true } },
    ]).catch((e: unknown) => e as grpc.ServiceError);
    expect((err as grpc.ServiceError).code).toBe(grpc.status.UNAUTHENTICATED);
  });
});
