import { create, toBinary } from "@bufbuild/protobuf";
import { type Client, Code, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyAdminService } from "../../gen/tdb/v1/key_admin_service_pb.js";
import { CreateSeriesRequestSchema, TimeSeriesService } from "../../gen/tdb/v1/time_series_service_pb.js";
import { apiKey, failure } from "../helpers/clients.js";
import { us } from "../helpers/points.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

/**
 * Input PostgreSQL cannot take, or that the API does not define, is the client's mistake:
 * InvalidArgument naming the field, never Internal, and nothing written. Cases run against
 * the real server, over Connect JSON, Connect binary and gRPC where the encoding matters.
 */

let srv: TestServer;
let seriesId: string;
const t = us("2024-06-01T00:00:00Z");

type Clients = { ts: Client<typeof TimeSeriesService>; keys: Client<typeof KeyAdminService> };
type Format = "json" | "proto" | "grpc";
/** Clients of both services per wire format; set in beforeAll. */
let formats: Record<Format, Clients>;

beforeAll(async () => {
  srv = await startTestServer();
  const interceptors = [apiKey(srv.adminKey)];
  const transports = {
    json: createConnectTransport({
      baseUrl: srv.url,
      httpVersion: "1.1",
      useBinaryFormat: false,
      interceptors,
    }),
    proto: createConnectTransport({
      baseUrl: srv.url,
      httpVersion: "1.1",
      useBinaryFormat: true,
      interceptors,
    }),
    grpc: createGrpcTransport({ baseUrl: srv.url, interceptors }),
  };
  const clients = (transport: (typeof transports)[Format]) => ({
    ts: createClient(TimeSeriesService, transport),
    keys: createClient(KeyAdminService, transport),
  });
  formats = {
    json: clients(transports.json),
    proto: clients(transports.proto),
    grpc: clients(transports.grpc),
  };
  const c = formats.grpc;
  seriesId = (await c.ts.createSeries({ name: "target", labels: { site: "a" } })).series?.seriesId ?? "";
  await c.ts.createSeries({ name: "target", labels: { site: "b" } });
  for (const hour of [0n, 1n]) {
    await c.ts.uploadBatch({
      header: { workflowId: "wf", knownTime: { seconds: 1_700_000_000n + hour * 3600n, nanos: 0 } },
      chunks: [{ series: { seriesId }, validTimes: [t + hour], values: [1] }],
    });
  }
  await c.keys.createUser({ email: "one@example.com" });
  await c.keys.createUser({ email: "two@example.com" });
});
afterAll(async () => {
  await srv?.close();
});

/** Row counts of everything a call could write, read as the superuser. */
async function stored(): Promise<string> {
  const { rows } = await srv.pool.query(
    `SELECT (SELECT count(*) FROM series) AS series, (SELECT count(*) FROM runs) AS runs,
            (SELECT count(*) FROM point_blocks) AS blocks, (SELECT count(*) FROM api_keys) AS keys,
            (SELECT count(*) FROM users) AS users`,
  );
  return JSON.stringify(rows[0]);
}

/** Runs `call`, expects InvalidArgument with exactly `message`, and that nothing was written. */
async function refused(call: () => Promise<unknown>, message: string | RegExp): Promise<void> {
  const before = await stored();
  const err = await failure(call());
  expect({ code: Code[err.code], message: err.rawMessage }).toEqual({
    code: "InvalidArgument",
    message: typeof message === "string" ? message : expect.stringMatching(message),
  });
  expect(await stored()).toBe(before);
}

const drain = async (it: AsyncIterable<unknown>) => {
  for await (const _ of it) {
    // read everything
  }
};
const chunk = (extra: object = {}) => ({
  series: { seriesId },
  validTimes: [t + 10n],
  values: [1],
  ...extra,
});
const nul = "must not contain NUL characters";

describe.each<Format>(["json", "proto", "grpc"])(
  "a NUL character over %s is refused, naming the field",
  (format) => {
    const c = () => formats[format];
    it.each<[string, (c: Clients) => Promise<unknown>, string]>([
      ["CreateSeries name", (c) => c.ts.createSeries({ name: "a\0b" }), `name: ${nul}`],
      [
        "CreateSeries label key",
        (c) => c.ts.createSeries({ name: "a", labels: { "k\0": "v" } }),
        `labels["k\\u0000"]: the key ${nul}`,
      ],
      [
        "CreateSeries label value",
        (c) => c.ts.createSeries({ name: "a", labels: { k: "v\0" } }),
        `labels["k"]: ${nul}`,
      ],
      ["CreateSeries unit", (c) => c.ts.createSeries({ name: "a", unit: "\0" }), `unit: ${nul}`],
      [
        "CreateSeries description",
        (c) => c.ts.createSeries({ name: "a", description: "x\0" }),
        `description: ${nul}`,
      ],
      [
        "run workflow id",
        (c) => c.ts.uploadBatch({ header: { workflowId: "w\0" }, chunks: [chunk()] }),
        `header.workflow_id: ${nul}`,
      ],
      [
        "run params (Struct)",
        (c) => c.ts.uploadBatch({ header: { params: { model: { v: [1, "x\0"] } } }, chunks: [chunk()] }),
        `header.params["model"]["v"][1]: ${nul}`,
      ],
      [
        "run params key",
        (c) => c.ts.uploadBatch({ header: { params: { "m\0": 1 } }, chunks: [chunk()] }),
        `header.params["m\\u0000"]: the key ${nul}`,
      ],
      [
        "a series name in a chunk",
        (c) =>
          c.ts.uploadBatch({
            header: { createMissingSeries: true },
            chunks: [{ series: { name: "n\0" }, validTimes: [t], values: [1] }],
          }),
        `chunks[0].series.name: ${nul}`,
      ],
      [
        "a series label in a chunk",
        (c) =>
          c.ts.uploadBatch({
            header: { createMissingSeries: true },
            chunks: [{ series: { name: "n", labels: { k: "\0" } }, validTimes: [t], values: [1] }],
          }),
        `chunks[0].series.labels["k"]: ${nul}`,
      ],
      [
        "an annotation",
        (c) =>
          c.ts.uploadBatch({
            header: {},
            chunks: [
              chunk(),
              chunk({ validTimes: [t + 11n, t + 12n], values: [1, 2], annotations: ["", "a\0"] }),
            ],
          }),
        `chunks[1].annotations[1]: ${nul}`,
      ],
      [
        "a tag",
        (c) => c.ts.uploadBatch({ header: {}, chunks: [chunk({ tags: [{ values: ["ok", "\0"] }] })] }),
        `chunks[0].tags[0].values[1]: ${nul}`,
      ],
      [
        "point metadata (Struct)",
        (c) => c.ts.uploadBatch({ header: {}, chunks: [chunk({ metadata: [{ source: "\0" }] })] }),
        `chunks[0].metadata[0]["source"]: ${nul}`,
      ],
      [
        "a streamed upload's later message",
        (c) =>
          c.ts.upload(
            (async function* () {
              yield { header: {}, chunks: [chunk()] };
              yield { chunks: [chunk({ validTimes: [t + 20n], annotations: ["\0"] })] };
            })(),
          ),
        `chunks[0].annotations[0]: ${nul} (request message 1)`,
      ],
      [
        "a correction's annotation",
        (c) => c.ts.updateValues({ updates: [{ series: { seriesId }, validTime: t, annotation: "\0" }] }),
        `updates[0].annotation: ${nul}`,
      ],
      [
        "a correction's tags",
        (c) =>
          c.ts.updateValues({ updates: [{ series: { seriesId }, validTime: t, tags: { values: ["\0"] } }] }),
        `updates[0].tags.values[0]: ${nul}`,
      ],
      [
        "a correction's metadata",
        (c) =>
          c.ts.updateValues({ updates: [{ series: { seriesId }, validTime: t, metadata: { k: "\0" } }] }),
        `updates[0].metadata["k"]: ${nul}`,
      ],
      ["a ListSeries filter", (c) => c.ts.listSeries({ name: "\0" }), `name: ${nul}`],
      ["a ListRuns filter", (c) => c.ts.listRuns({ workflowId: "\0" }), `workflow_id: ${nul}`],
      ["a ReadValues filter", (c) => drain(c.ts.readValues({ labels: { k: "\0" } })), `labels["k"]: ${nul}`],
      ["a key name", (c) => c.keys.createKey({ name: "k\0" }), `name: ${nul}`],
      ["a user's email", (c) => c.keys.createUser({ email: "a\0@example.com" }), `email: ${nul}`],
      [
        "a user reference",
        (c) => c.keys.deactivateUser({ user: { case: "email", value: "\0@example.com" } }),
        `email: ${nul}`,
      ],
    ])("%s", async (_name, call, message) => {
      await refused(() => call(c()), message);
    });
  },
);

describe("an unpaired surrogate (only JSON can spell one) in a Struct is refused", () => {
  it("in run params", async () => {
    const c = formats.json;
    await refused(
      () => c.ts.uploadBatch({ header: { params: { k: "a\uD800" } }, chunks: [chunk()] }),
      'header.params["k"]: must be valid Unicode (it holds an unpaired surrogate)',
    );
  });
});

const token = (cursor: unknown) =>
  Buffer.from(typeof cursor === "string" ? cursor : JSON.stringify(cursor)).toString("base64url");
const notOurs = "page_token: is not a page token from this server";
const uuid = "0b7c1f3e-8a8e-4c55-9d3f-6d8f7e0a1b2c";
const forgedEverywhere: unknown[] = ["garbage", "[]", "null", "42", '"x"', {}, { a: "1" }];

describe("forged or truncated page tokens are InvalidArgument on page_token", () => {
  const lists: [string, (c: Clients, pageToken: string) => Promise<unknown>, unknown[], () => unknown][] = [
    [
      "ListSeries",
      (c, pageToken) => c.ts.listSeries({ pageToken, pageSize: 1 }),
      [
        { name: "a", id: "abc" },
        { name: "a", id: "1e5" },
        { name: "a", id: "99999999999999999999" },
        { name: "a", id: "9223372036854775808" },
        { name: "a", id: "0" },
        { name: "a", id: "-1" },
        { name: "a", id: 5 },
        { name: "a\u0000", id: "1" },
        { name: "a\ud800", id: "1" },
        { name: "x".repeat(201), id: "1" },
        { name: "a" },
        { name: "a", id: "1", extra: "1" },
      ],
      () => ({ name: "a", id: "1" }),
    ],
    [
      "ListRuns",
      (c, pageToken) => c.ts.listRuns({ pageToken, pageSize: 1 }),
      [
        { knownTimeUs: "-9223372036854775808", id: "1" },
        { knownTimeUs: "9223372036854775807", id: "1" },
        { knownTimeUs: "253402300800000000", id: "1" },
        { knownTimeUs: "1e5", id: "1" },
        { knownTimeUs: "99999999999999999999", id: "1" },
        { knownTimeUs: "01", id: "1" },
        { knownTimeUs: 5, id: "1" },
        { knownTimeUs: "1", id: "abc" },
        { knownTimeUs: "1", id: "99999999999999999999" },
      ],
      () => ({ knownTimeUs: "1700000000000000", id: "1" }),
    ],
    [
      "ListKeys",
      (c, pageToken) => c.keys.listKeys({ pageToken, pageSize: 1 }),
      [
        { createdAtUs: "-9223372036854775808", id: uuid },
        { createdAtUs: "9223372036854775807", id: uuid },
        { createdAtUs: "1e5", id: uuid },
        { createdAtUs: "1", id: "abc" },
        { createdAtUs: "1", id: `${uuid}0` },
        { createdAtUs: "1", id: 1 },
      ],
      () => ({ createdAtUs: "1", id: uuid }),
    ],
    [
      "ListUsers",
      (c, pageToken) => c.keys.listUsers({ pageToken, pageSize: 1 }),
      [
        { createdAtUs: "-9223372036854775808", id: uuid },
        { createdAtUs: "99999999999999999999", id: uuid },
        { createdAtUs: "1", id: "abc" },
      ],
      () => ({ createdAtUs: "1", id: uuid }),
    ],
  ];

  describe.each(lists)("%s", (_rpc, list, forged, wellFormed) => {
    const c = () => formats.grpc;
    it.each([...forgedEverywhere, ...forged].map((f) => [JSON.stringify(f), f]))(
      "%s",
      async (_label, cursor) => {
        await refused(() => list(c(), token(cursor)), notOurs);
      },
    );

    it("a truncated genuine token", async () => {
      const first = (await list(c(), "")) as { nextPageToken: string };
      expect(first.nextPageToken).not.toBe("");
      await refused(() => list(c(), first.nextPageToken.slice(0, -3)), notOurs);
    });

    it("genuine and well-formed tokens still page", async () => {
      const first = (await list(c(), "")) as { nextPageToken: string };
      await list(c(), first.nextPageToken);
      await list(c(), token(wellFormed()));
    });
  });
});

describe("limits on labels (the name and labels of a series are one index entry)", () => {
  const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, "v"]));
  /** Random text PostgreSQL cannot compress, of `n` characters from `alphabet`. */
  const noise = (n: number, alphabet: string) =>
    Array.from({ length: n }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join("");
  const ascii = Array.from({ length: 90 }, (_, i) => String.fromCharCode(33 + i)).join("");

  it.each<Format>(["json", "proto", "grpc"])(
    "100,000 labels are InvalidArgument on labels (%s)",
    async (format) => {
      const c = formats[format];
      await refused(
        () => c.ts.createSeries({ name: "big", labels: many(100_000) }),
        "labels: at most 64 labels, got 100000",
      );
      await refused(
        () =>
          c.ts.uploadBatch({
            header: { createMissingSeries: true },
            chunks: [{ series: { name: "big", labels: many(100_000) }, validTimes: [t], values: [1] }],
          }),
        "chunks[0].series.labels: at most 64 labels, got 100000",
      );
      await refused(() => c.ts.listSeries({ labels: many(65) }), "labels: at most 64 labels, got 65");
    },
  );

  it("20 labels of 200 random characters (which overflowed the index) are InvalidArgument", async () => {
    const c = formats.grpc;
    const labels = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, noise(200, ascii)]));
    await refused(
      () => c.ts.createSeries({ name: "wide", labels }),
      /^labels: label keys and values take at most 1500 bytes \(UTF-8\) together, got \d+$/,
    );
  });

  it("the largest accepted name and labels fit PostgreSQL's index", async () => {
    const c = formats.grpc;
    // 200 random CJK characters (600 bytes), 64 labels of 1,500 bytes of random text: the
    // index entry is 2,651 bytes of 2,704 (with 1,560 bytes of labels PostgreSQL refuses it).
    const cjk = Array.from({ length: 20_000 }, (_, i) => String.fromCharCode(0x4e00 + i)).join("");
    const name = noise(200, cjk);
    const labels: Record<string, string> = {};
    let left = 1500;
    for (let i = 0; i < 64; i++) {
      const key = `k${String(i).padStart(2, "0")}`;
      const value = i < 63 ? noise(20, ascii) : noise(left - key.length, ascii);
      labels[key] = value;
      left -= key.length + value.length;
    }
    expect(left).toBe(0);
    const created = await c.ts.createSeries({ name, labels });
    expect(created.series?.labels).toEqual(labels);
    await c.ts.uploadBatch({
      header: {},
      chunks: [{ series: { name, labels }, validTimes: [t], values: [1] }],
    });
    const tooMany = { ...labels, k63: `${labels.k63}x` };
    await refused(
      () => c.ts.createSeries({ name, labels: tooMany }),
      "labels: label keys and values take at most 1500 bytes (UTF-8) together, got 1501",
    );
  });
});

/** A raw Connect call: JSON text or binary bytes, unary or (enveloped) streaming. */
async function raw(
  method: string,
  body: string | Uint8Array,
  opts: { binary?: boolean; stream?: boolean } = {},
): Promise<{ status: number; code: string; message: string }> {
  let bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  if (opts.stream) bytes = envelope(bytes);
  const type = `application/${opts.stream ? "connect+" : ""}${opts.binary ? "proto" : "json"}`;
  const res = await fetch(`${srv.url}/${method}`, {
    method: "POST",
    headers: { "content-type": type, "connect-protocol-version": "1", "x-api-key": srv.adminKey },
    body: bytes as unknown as BodyInit,
  });
  const got = new Uint8Array(await res.arrayBuffer());
  if (!opts.stream) {
    if (res.status === 200) return { status: 200, code: "ok", message: "" };
    const json = JSON.parse(new TextDecoder().decode(got));
    return { status: res.status, code: json.code ?? "ok", message: json.message ?? "" };
  }
  // The end-of-stream envelope (flag 2) is last and carries the error.
  let end: Uint8Array = new Uint8Array(0);
  for (let i = 0; i < got.length; ) {
    const n = new DataView(got.buffer, i + 1, 4).getUint32(0);
    end = got.subarray(i + 5, i + 5 + n);
    i += 5 + n;
  }
  const json = JSON.parse(new TextDecoder().decode(end));
  return { status: res.status, code: json.error?.code ?? "ok", message: json.error?.message ?? "" };
}

function envelope(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + data.length);
  new DataView(out.buffer).setUint32(1, data.length);
  out.set(data, 5);
  return out;
}

const TS = "tdb.v1.TimeSeriesService";

describe("strict JSON: unknown fields and enum names are InvalidArgument naming them", () => {
  const readModes =
    "READ_MODE_UNSPECIFIED, READ_MODE_LATEST, READ_MODE_AS_OF, READ_MODE_ALL_VINTAGES, READ_MODE_CORRECTIONS";
  it.each<[string, string, string, boolean, string]>([
    [
      "a misspelled upload field (would store an empty run)",
      `${TS}/UploadBatch`,
      JSON.stringify({ header: {}, chunk: [{ series: { seriesId: "1" }, validTimes: ["1"], values: [1] }] }),
      false,
      "chunk: is not a field of tdb.v1.UploadBatchRequest",
    ],
    [
      "a misspelled nested field",
      `${TS}/UploadBatch`,
      JSON.stringify({ header: { knwonTime: "2024-01-01T00:00:00Z" }, chunks: [] }),
      false,
      "header.knwonTime: is not a field of tdb.v1.RunHeader",
    ],
    [
      "a misspelled field in a streamed message",
      `${TS}/Upload`,
      JSON.stringify({ header: {}, chunks: [{ seriez: {} }] }),
      true,
      "chunks[].seriez (request message 0): is not a field of tdb.v1.PointChunk",
    ],
    [
      "a misspelled filter (would list everything)",
      `${TS}/ListSeries`,
      '{"nmae":"x"}',
      false,
      "nmae: is not a field of tdb.v1.ListSeriesRequest",
    ],
    [
      "a misspelled read filter (would read the whole range)",
      `${TS}/ReadValues`,
      '{"startVaild":"2024-01-01T00:00:00Z"}',
      true,
      "startVaild: is not a field of tdb.v1.ReadValuesRequest",
    ],
    [
      "a misspelled read mode",
      `${TS}/ReadValues`,
      '{"mode":"READ_MODE_CORRECTIONZ"}',
      true,
      `mode: unknown value "READ_MODE_CORRECTIONZ" of tdb.v1.ReadMode, expected one of ${readModes}`,
    ],
    [
      "a read mode by a short name (would read LATEST)",
      `${TS}/ReadValues`,
      '{"mode":"corrections"}',
      true,
      `mode: unknown value "corrections" of tdb.v1.ReadMode, expected one of ${readModes}`,
    ],
    [
      "an unknown series kind",
      `${TS}/CreateSeries`,
      '{"name":"k","kind":"FORECASTZ"}',
      false,
      'kind: unknown value "FORECASTZ" of tdb.v1.SeriesKind, expected one of SERIES_KIND_UNSPECIFIED, SERIES_KIND_ACTUAL, SERIES_KIND_FORECAST',
    ],
    [
      "an unknown role",
      "tdb.v1.KeyAdminService/CreateKey",
      '{"name":"k","role":"ROLE_ROOT"}',
      false,
      'role: unknown value "ROLE_ROOT" of tdb.v1.Role, expected one of ROLE_UNSPECIFIED, ROLE_READ, ROLE_READWRITE, ROLE_ADMIN',
    ],
    [
      "a filter time that is not RFC 3339",
      `${TS}/ReadValues`,
      '{"startValid":"yesterday"}',
      true,
      'one of start_valid, end_valid, start_known, end_known, as_of: not a timestamp (invalid RFC 3339 string); expected an RFC 3339 time such as "2026-01-01T00:00:00Z"',
    ],
    [
      "a run's known time that is not RFC 3339",
      `${TS}/UploadBatch`,
      '{"header":{"knownTime":1700000000},"chunks":[]}',
      false,
      'one of header.known_time, header.started_at, header.finished_at: not a timestamp (1700000000); expected an RFC 3339 time such as "2026-01-01T00:00:00Z"',
    ],
    [
      "a point time given as RFC 3339 instead of microseconds",
      `${TS}/UploadBatch`,
      '{"header":{},"chunks":[{"series":{"name":"t"},"validTimes":["2026-01-01T00:00:00Z"],"values":[1]}]}',
      false,
      'chunks[].valid_times: list item #1: expected bigint (int64): 2026-01-01T00:00:00Z out of range; times here are integer microseconds since the Unix epoch (JSON strings), e.g. "1767225600000000" for 2026-01-01T00:00:00Z',
    ],
  ])("%s", async (_name, method, body, stream, message) => {
    const before = await stored();
    const got = await raw(method, body, { stream });
    expect(got).toMatchObject({ code: "invalid_argument", message });
    expect(await stored()).toBe(before);
  });

  it("well-formed JSON still works, enum names included", async () => {
    expect(await raw(`${TS}/ListSeries`, '{"name":"target","pageSize":1}')).toMatchObject({ status: 200 });
    expect(await raw(`${TS}/ReadValues`, '{"mode":"READ_MODE_CORRECTIONS"}', { stream: true })).toMatchObject(
      {
        code: "ok",
      },
    );
  });
});

describe("malformed binary protobuf is InvalidArgument, not Internal", () => {
  const truncated = new Uint8Array([0x0a, 0x05, 0x61]); // field 1: 5 bytes announced, 1 sent
  it.each<[string, string, Uint8Array, boolean, string]>([
    [
      "a truncated unary request",
      `${TS}/CreateSeries`,
      truncated,
      false,
      "cannot decode message tdb.v1.CreateSeriesRequest from binary: premature EOF",
    ],
    [
      "an illegal wire type",
      `${TS}/UploadBatch`,
      new Uint8Array([0x0f]),
      false,
      "cannot decode message tdb.v1.UploadBatchRequest from binary: illegal tag: field no 1 wire type 7",
    ],
    [
      "invalid UTF-8 in a string",
      `${TS}/CreateSeries`,
      new Uint8Array([0x0a, 0x02, 0xc3, 0x28]),
      false,
      "cannot decode message tdb.v1.CreateSeriesRequest from binary: The encoded data was not valid for encoding utf-8",
    ],
    [
      "a truncated stream message",
      `${TS}/Upload`,
      truncated,
      true,
      "cannot decode message tdb.v1.UploadRequest from binary (request message 0): premature EOF",
    ],
    [
      "a truncated server-stream request",
      `${TS}/ReadValues`,
      truncated,
      true,
      "cannot decode message tdb.v1.ReadValuesRequest from binary: premature EOF",
    ],
  ])("%s", async (_name, method, body, stream, message) => {
    const before = await stored();
    expect(await raw(method, body, { binary: true, stream })).toMatchObject({
      code: "invalid_argument",
      message,
    });
    expect(await stored()).toBe(before);
  });

  it("over gRPC-Web too (gRPC over h2c: src/server/decode-errors.test.ts)", async () => {
    const res = await fetch(`${srv.url}/${TS}/CreateSeries`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto", "x-api-key": srv.adminKey },
      body: envelope(truncated) as unknown as BodyInit,
    });
    const body = new Uint8Array(await res.arrayBuffer());
    const trailer = new TextDecoder().decode(body.subarray(5)); // one frame: the trailers
    expect(body[0]).toBe(0x80);
    expect(trailer).toMatch(/grpc-status: ?3\r\n/);
    expect(decodeURIComponent(/grpc-message: ?(.*)\r\n/.exec(trailer)?.[1] ?? "")).toBe(
      "cannot decode message tdb.v1.CreateSeriesRequest from binary: premature EOF",
    );
  });

  it("the same bytes, completed, are accepted", async () => {
    const ok = toBinary(CreateSeriesRequestSchema, create(CreateSeriesRequestSchema, { name: "fine" }));
    expect(await raw(`${TS}/CreateSeries`, ok, { binary: true })).toMatchObject({ status: 200 });
  });
});
