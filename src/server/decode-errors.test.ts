import { Code, ConnectError, createConnectRouter } from "@connectrpc/connect";
import { encodeEnvelope, readAllBytes, type UniversalHandler } from "@connectrpc/connect/protocol";
import { describe, expect, it } from "vitest";
import { TimeSeriesService } from "../../gen/tdb/v1/time_series_service_pb.js";
import { decodeErrors, reclassifyDecodeErrors } from "./decode-errors.js";

/** Field 1 (a string) says it is 5 bytes long, and then the body ends. */
const truncated = new Uint8Array([0x0a, 0x05, 0x61]);

function handlerFor(name: string, gate = true): UniversalHandler {
  const router = createConnectRouter({
    requestGate: gate ? reclassifyDecodeErrors : undefined,
    interceptors: [decodeErrors()],
    jsonOptions: { ignoreUnknownFields: false },
  });
  router.service(TimeSeriesService, {
    createSeries: (req) => {
      if (req.name === "boom") throw new ConnectError("boom", Code.Internal);
      return {};
    },
    async *readValues() {
      yield { chunks: [] };
    },
    upload: async (requests) => {
      for await (const _ of requests) {
        // read them all
      }
      return {};
    },
  });
  const handler = router.handlers.find((h) => h.method.name === name);
  if (!handler) throw new Error(name);
  return handler;
}

/** Sends raw bytes; returns the error code and message however the protocol carries them. */
async function send(handler: UniversalHandler, contentType: string, payload: Uint8Array | string) {
  const body = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  const header = new Headers({ "content-type": contentType });
  if (contentType.startsWith("application/grpc")) header.set("te", "trailers");
  const res = await handler({
    httpVersion: "2.0",
    method: "POST",
    url: `https://in-memory${handler.requestPath}`,
    header,
    body: (async function* () {
      yield body;
    })(),
    signal: new AbortController().signal,
  });
  const bytes = res.body ? await readAllBytes(res.body, Number.MAX_SAFE_INTEGER) : new Uint8Array(0);
  if (contentType === "application/proto" || contentType === "application/json") {
    const json = JSON.parse(new TextDecoder().decode(bytes));
    return { status: res.status, code: json.code, message: json.message };
  }
  if (contentType === "application/grpc") {
    return {
      code: Number(res.trailer?.get("grpc-status")),
      message: decodeURIComponent(res.trailer?.get("grpc-message") ?? ""),
    };
  }
  // Enveloped bodies: the last envelope carries the end of the stream.
  let last: Uint8Array = new Uint8Array(0);
  for (let i = 0; i < bytes.length; ) {
    const n = new DataView(bytes.buffer, bytes.byteOffset + i + 1, 4).getUint32(0);
    last = bytes.subarray(i + 5, i + 5 + n);
    i += 5 + n;
  }
  const text = new TextDecoder().decode(last);
  if (contentType.startsWith("application/grpc-web")) {
    const lines = Object.fromEntries(
      text
        .trim()
        .split("\r\n")
        .map((l) => l.split(": ", 2)),
    );
    return { code: Number(lines["grpc-status"]), message: decodeURIComponent(lines["grpc-message"] ?? "") };
  }
  const end = JSON.parse(text);
  return { code: end.error.code, message: end.error.message };
}

const message = "cannot decode message tdb.v1.CreateSeriesRequest from binary: premature EOF";

describe("decode errors of binary requests are InvalidArgument", () => {
  it("Connect unary: HTTP 400 invalid_argument", async () => {
    expect(await send(handlerFor("CreateSeries"), "application/proto", truncated)).toEqual({
      status: 400,
      code: "invalid_argument",
      message,
    });
  });

  it("gRPC unary: status 3", async () => {
    expect(await send(handlerFor("CreateSeries"), "application/grpc", encodeEnvelope(0, truncated))).toEqual({
      code: 3,
      message,
    });
  });

  it("gRPC-Web unary: status 3", async () => {
    expect(
      await send(handlerFor("CreateSeries"), "application/grpc-web+proto", encodeEnvelope(0, truncated)),
    ).toEqual({ code: 3, message });
  });

  it("a client stream: the bad message is numbered", async () => {
    const body = new Uint8Array([...encodeEnvelope(0, new Uint8Array(0)), ...encodeEnvelope(0, truncated)]);
    expect(await send(handlerFor("Upload"), "application/connect+proto", body)).toEqual({
      code: "invalid_argument",
      message: "cannot decode message tdb.v1.UploadRequest from binary (request message 1): premature EOF",
    });
    expect(await send(handlerFor("Upload"), "application/grpc", body)).toMatchObject({ code: 3 });
  });

  it("without the gate a unary decode error stays connect-es's Internal (what the gate is for)", async () => {
    expect(await send(handlerFor("CreateSeries", false), "application/proto", truncated)).toEqual({
      status: 500,
      code: "internal",
      message: "parse binary: premature EOF",
    });
  });

  it("leaves good requests and other errors alone", async () => {
    const ok = await handlerFor("CreateSeries")({
      httpVersion: "2.0",
      method: "POST",
      url: "https://in-memory/tdb.v1.TimeSeriesService/CreateSeries",
      header: new Headers({ "content-type": "application/proto" }),
      body: (async function* () {
        yield new Uint8Array([0x0a, 0x01, 0x61]);
      })(),
      signal: new AbortController().signal,
    });
    expect(ok.status).toBe(200);
    const boom = new Uint8Array([0x0a, 0x04, ...new TextEncoder().encode("boom")]);
    expect(await send(handlerFor("CreateSeries"), "application/proto", boom)).toEqual({
      status: 500,
      code: "internal",
      message: "boom",
    });
  });
});

describe("JSON decode errors name the field", () => {
  const json = (name: string, body: string, type = "application/json") =>
    send(
      handlerFor(name),
      type,
      type === "application/json" ? body : encodeEnvelope(0, new TextEncoder().encode(body)),
    );

  it("an unknown enum name", async () => {
    expect(await json("ReadValues", '{"mode":"corrections"}', "application/connect+json")).toEqual({
      code: "invalid_argument",
      message:
        'mode: unknown value "corrections" of tdb.v1.ReadMode, expected one of READ_MODE_UNSPECIFIED, ' +
        "READ_MODE_LATEST, READ_MODE_AS_OF, READ_MODE_ALL_VINTAGES, READ_MODE_CORRECTIONS",
    });
  });

  it("an unknown key, at the top and nested", async () => {
    expect(await json("CreateSeries", '{"nmae":"x"}')).toMatchObject({
      status: 400,
      message: "nmae: is not a field of tdb.v1.CreateSeriesRequest",
    });
    expect(await json("Upload", '{"header":{"knwonTime":"x"}}', "application/connect+json")).toMatchObject({
      message: "header.knwonTime (request message 0): is not a field of tdb.v1.RunHeader",
    });
    expect(await json("Upload", '{"chunks":[{"seriez":{}}]}', "application/connect+json")).toMatchObject({
      message: "chunks[].seriez (request message 0): is not a field of tdb.v1.PointChunk",
    });
  });

  it("a bad field value", async () => {
    expect(await json("CreateSeries", '{"name":5}')).toMatchObject({
      status: 400,
      message: "name: expected string, got 5",
    });
  });

  it("names the Timestamp fields a bad time can be, with the expected form", async () => {
    const got = await json("ReadValues", '{"startValid":"yesterday"}', "application/connect+json");
    expect(got).toEqual({
      code: "invalid_argument",
      message:
        'one of start_valid, end_valid, start_known, end_known, as_of: not a timestamp (invalid RFC 3339 string); expected an RFC 3339 time such as "2026-01-01T00:00:00Z"',
    });
  });
});
