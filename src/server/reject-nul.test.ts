import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  TimeSeriesService,
  type UploadBatchRequestSchema,
  type UploadRequestSchema,
} from "../../gen/tdb/v1/time_series_service_pb.js";
import { rejectNul } from "./reject-nul.js";

/** An in-memory TimeSeriesService behind rejectNul that records what reached it. */
function setup(useBinaryFormat = true) {
  const reached: string[] = [];
  const transport = createRouterTransport(
    (router) =>
      router.service(TimeSeriesService, {
        createSeries: (req) => {
          reached.push(`createSeries ${req.name}`);
          return {};
        },
        uploadBatch: () => {
          reached.push("uploadBatch");
          return {};
        },
        upload: async (requests) => {
          for await (const _ of requests) reached.push("upload message");
          return {};
        },
        async *readValues(req) {
          reached.push(`readValues ${req.name}`);
          yield { chunks: [] };
        },
      }),
    { router: { interceptors: [rejectNul()] }, transport: { useBinaryFormat } },
  );
  return { reached, client: createClient(TimeSeriesService, transport) };
}

async function failure(p: Promise<unknown>): Promise<ConnectError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
  if (!err) throw new Error("expected the call to fail");
  return err;
}

const chunk = { series: { seriesId: "1" }, validTimes: [1n, 2n], values: [1, 2] };

describe("rejectNul", () => {
  it.each([
    ["a field", { name: "a\0b" }, "name: must not contain NUL characters"],
    [
      "a map value",
      { name: "a", labels: { site: "x\0" } },
      'labels["site"]: must not contain NUL characters',
    ],
    [
      "a map key",
      { name: "a", labels: { "s\0": "x" } },
      'labels["s\\u0000"]: the key must not contain NUL characters',
    ],
    ["another field", { name: "a", unit: "\0" }, "unit: must not contain NUL characters"],
  ])(
    "refuses a NUL in %s of a unary request, naming it, before the service runs",
    async (_, req, message) => {
      const { reached, client } = setup();
      const err = await failure(client.createSeries(req));
      expect(err.code).toBe(Code.InvalidArgument);
      expect(err.rawMessage).toBe(message);
      expect(reached).toEqual([]);
    },
  );

  it.each<[string, MessageInitShape<typeof UploadBatchRequestSchema>, string]>([
    [
      "a list element",
      { chunks: [chunk, { ...chunk, annotations: ["", "", "", "x\0"] }] },
      "chunks[1].annotations[3]",
    ],
    [
      "a nested message list",
      { chunks: [{ ...chunk, tags: [{ values: [] }, { values: ["ok", "\0"] }] }] },
      "chunks[0].tags[1].values[1]",
    ],
    [
      "a Struct value",
      { chunks: [{ ...chunk, metadata: [{}, { k: "v\0" }] }] },
      'chunks[0].metadata[1]["k"]',
    ],
    [
      "a nested Struct",
      { header: { params: { a: { b: [1, "ok", { c: "\0" }] } } } },
      'header.params["a"]["b"][2]["c"]',
    ],
    [
      "a series reference",
      { chunks: [{ ...chunk, series: { name: "x", labels: { k: "\0" } } }] },
      'chunks[0].series.labels["k"]',
    ],
    ["the header", { header: { workflowId: "w\0" } }, "header.workflow_id"],
  ])("names the path of %s", async (_, req, path) => {
    const { reached, client } = setup();
    const err = await failure(client.uploadBatch(req));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toBe(`${path}: must not contain NUL characters`);
    expect(reached).toEqual([]);
  });

  it("names a Struct key", async () => {
    const { client } = setup();
    const err = await failure(client.uploadBatch({ header: { params: { "k\0": 1 } } }));
    expect(err.rawMessage).toBe('header.params["k\\u0000"]: the key must not contain NUL characters');
  });

  it("refuses an unpaired surrogate inside a Struct (sent as JSON, where it can be spelled)", async () => {
    const { reached, client } = setup(false);
    const err = await failure(client.uploadBatch({ header: { params: { k: "a\uD800b" } } }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toBe('header.params["k"]: must be valid Unicode (it holds an unpaired surrogate)');
    expect(reached).toEqual([]);
  });

  it("lets clean text through, including characters outside the BMP", async () => {
    const { reached, client } = setup();
    const times = Array.from({ length: 100_000 }, (_, i) => BigInt(i));
    await client.uploadBatch({
      header: { workflowId: "w", params: { emoji: "🌡️", list: ["a", 1, null] } },
      chunks: [{ ...chunk, validTimes: times, values: times.map(Number), annotations: ["\u0001 ok"] }],
    });
    await client.createSeries({ name: "temp 🌡", labels: { site: "Zürich" } });
    expect(reached).toEqual(["uploadBatch", "createSeries temp 🌡"]);
  });

  it("checks each message of a client stream as the service reads it", async () => {
    const { reached, client } = setup();
    type Msg = MessageInitShape<typeof UploadRequestSchema>;
    const msgs: Msg[] = [
      { header: {}, chunks: [chunk] },
      { chunks: [chunk, { ...chunk, annotations: ["\0", ""] }] },
    ];
    const err = await failure(
      client.upload(
        (async function* () {
          yield* msgs;
        })(),
      ),
    );
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toBe(
      "chunks[1].annotations[0]: must not contain NUL characters (request message 1)",
    );
    expect(reached).toEqual(["upload message"]);
  });

  it("checks the request of a server stream", async () => {
    const { reached, client } = setup();
    const read = async () => {
      for await (const _ of client.readValues({ name: "\0" })) {
        // drain
      }
    };
    const err = await failure(read());
    expect(err.rawMessage).toBe("name: must not contain NUL characters");
    expect(reached).toEqual([]);
  });
});
