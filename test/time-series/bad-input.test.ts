import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UploadRequestSchema } from "../../gen/tdb/v1/time_series_service_pb.js";
import { TimeSeriesService } from "../../gen/tdb/v1/time_series_service_pb.js";
import { clientFor, failure } from "../helpers/clients.js";
import { us } from "../helpers/points.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

let srv: TestServer;
let client: ReturnType<typeof clientFor<typeof TimeSeriesService>>;
let seriesId: string;
const t = us("2024-06-01T00:00:00Z");
const h = 3_600_000_000n;

beforeAll(async () => {
  srv = await startTestServer();
  client = clientFor(TimeSeriesService, srv.url, srv.adminKey, "grpc");
  seriesId = (await client.createSeries({ name: "target" })).series?.seriesId ?? "";
});
afterAll(async () => {
  await srv?.close();
});

/** Counts of runs and points across all tenants, read as the superuser. */
async function stored(): Promise<string> {
  const { rows } = await srv.pool.query(
    "SELECT (SELECT count(*) FROM runs) AS runs, (SELECT COALESCE(sum(n), 0) FROM point_blocks) AS points, (SELECT count(*) FROM series) AS series",
  );
  return JSON.stringify(rows[0]);
}

type Msg = MessageInitShape<typeof UploadRequestSchema>;
const stream = (msgs: Msg[]) =>
  (async function* () {
    yield* msgs;
  })();

/** `count` hourly times from hour `from`. */
const hours = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => t + BigInt(from + i) * h);

const chunk = (extra: object = {}) => ({
  series: { seriesId },
  validTimes: [t, t + h],
  values: [1, 2],
  ...extra,
});

describe("uploads refuse bad input with InvalidArgument naming the field, and write nothing", () => {
  // Messages are built when each case runs: the series id exists only after beforeAll.
  const cases: [string, () => Msg[], RegExp][] = [
    [
      "values shorter than valid_times",
      () => [{ header: {}, chunks: [chunk({ values: [1] })] }],
      /chunks\[0\]\.values: has 1 elements, valid_times has 2/,
    ],
    [
      "nulls of another length",
      () => [{ header: {}, chunks: [chunk({ nulls: [true] })] }],
      /chunks\[0\]\.nulls/,
    ],
    [
      "duplicate valid times in a chunk",
      () => [{ header: {}, chunks: [chunk({ validTimes: [t + h, t + h] })] }],
      /chunks\[0\]\.valid_times\[1\]: duplicate valid time/,
    ],
    [
      "duplicate valid times in unsorted chunk",
      () => [
        { header: {}, chunks: [{ series: { seriesId }, validTimes: [t + h, t, t + h], values: [1, 2, 3] }] },
      ],
      /chunks\[0\]\.valid_times\[\d\]: duplicate valid time/,
    ],
    [
      "duplicate valid times across messages",
      () => [{ header: {}, chunks: [chunk()] }, { chunks: [chunk({ validTimes: [t + h, t + 2n * h] })] }],
      /chunks\[1\]\.valid_times\[0\]: duplicate valid time/,
    ],
    [
      "duplicate valid times across out-of-order chunks",
      () => [
        {
          header: {},
          chunks: [chunk({ validTimes: [t + 5n * h, t + 6n * h] }), chunk({ validTimes: [t, t + 5n * h] })],
        },
      ],
      /^chunks\[0\]\.valid_times: duplicate valid time 2024-06-01T05:00:00.000Z for series \d+ in one upload/,
    ],
    [
      "duplicate valid times of one series named by id and by name",
      () => [
        {
          header: {},
          chunks: [
            chunk({ validTimes: [t, t + h] }),
            { series: { name: "target" }, validTimes: [t + h], values: [9] },
          ],
        },
      ],
      /duplicate valid time .* for series target in one upload/,
    ],
    [
      "duplicate valid times between long chunks (blocks) of one series",
      () => [
        {
          header: {},
          chunks: [
            chunk({ validTimes: hours(0, 600), values: Array(600).fill(1) }),
            chunk({ validTimes: hours(598, 600), values: Array(600).fill(2) }),
          ],
        },
      ],
      /^chunks\[0\]\.valid_times: duplicate valid time .* for series target in one upload/,
    ],
    [
      "NaN",
      () => [{ header: {}, chunks: [chunk({ values: [1, Number.NaN] })] }],
      /chunks\[0\]\.values\[1\]: must be a finite number/,
    ],
    [
      "+Inf",
      () => [{ header: {}, chunks: [chunk({ values: [Number.POSITIVE_INFINITY, 1] })] }],
      /chunks\[0\]\.values\[0\]: must be a finite number/,
    ],
    [
      "a time after year 9999",
      () => [{ header: {}, chunks: [chunk({ validTimes: [t, 253402300800000000n] })] }],
      /chunks\[0\]\.valid_times\[1\]: time out of range/,
    ],
    [
      "an interval end before its start",
      () => [{ header: {}, chunks: [chunk({ validTimeEnds: [t - 1n, 0n] })] }],
      /chunks\[0\]\.valid_time_ends\[0\]/,
    ],
    [
      "an empty series name",
      () => [
        {
          header: { createMissingSeries: true },
          chunks: [{ series: { name: "" }, validTimes: [t], values: [1] }],
        },
      ],
      /chunks\[0\]\.series\.name: is required/,
    ],
    [
      "a malformed label key",
      () => [
        {
          header: { createMissingSeries: true },
          chunks: [{ series: { name: "x", labels: { "bad key": "v" } }, validTimes: [t], values: [1] }],
        },
      ],
      /chunks\[0\]\.series\.labels\["bad key"\]/,
    ],
    [
      "an unknown series without create",
      () => [{ header: {}, chunks: [{ series: { name: "nope" }, validTimes: [t], values: [1] }] }],
      /chunks\[0\]\.series: unknown series nope/,
    ],
    [
      "an unknown series id",
      () => [{ header: {}, chunks: [{ series: { seriesId: "12345" }, validTimes: [t], values: [1] }] }],
      /chunks\[0\]\.series\.series_id: unknown series 12345/,
    ],
    [
      "a malformed series id",
      () => [{ header: {}, chunks: [{ series: { seriesId: "abc" }, validTimes: [t], values: [1] }] }],
      /chunks\[0\]\.series\.series_id: is not a series id/,
    ],
    [
      "both id and name",
      () => [{ header: {}, chunks: [{ series: { seriesId, name: "x" }, validTimes: [t], values: [1] }] }],
      /chunks\[0\]\.series: give series_id or name/,
    ],
    [
      "read-only columns in an upload",
      () => [{ header: {}, chunks: [chunk({ knownTimes: [t, t] })] }],
      /chunks\[0\]\.known_times: is set by the server/,
    ],
    [
      "a missing header",
      () => [{ chunks: [chunk()] }],
      /header: the first message must carry the run header/,
    ],
    [
      "a repeated header",
      () => [{ header: {} }, { header: {}, chunks: [chunk()] }],
      /header: only the first message may carry the header/,
    ],
    ["an empty stream", () => [], /header: the upload is empty/],
    [
      "a bad known time",
      () => [{ header: { knownTime: { seconds: 300000000000n, nanos: 0 } }, chunks: [chunk()] }],
      /header\.known_time: time out of range/,
    ],
  ];

  it.each(cases)("%s", async (_name, msgs, message) => {
    const before = await stored();
    const err = await failure(client.upload(stream(msgs())));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toMatch(message);
    expect(await stored()).toBe(before);
  });

  it("a bad chunk in the middle of a long stream leaves the database exactly as before", async () => {
    const before = await stored();
    const msgs: Msg[] = [{ header: { createMissingSeries: true } }];
    for (let i = 0; i < 20; i++) {
      const times = Array.from({ length: 1000 }, (_, k) => t + BigInt(i * 1000 + k) * h);
      msgs.push({
        chunks: [
          { series: { name: "created_then_rolled_back" }, validTimes: times, values: times.map(() => i) },
        ],
      });
    }
    msgs.push({ chunks: [chunk({ values: [1, Number.NaN] })] });
    const err = await failure(client.upload(stream(msgs)));
    expect(err.rawMessage).toMatch(/chunks\[20\]\.values\[1\]/);
    expect(await stored()).toBe(before);
  });

  it("a client that cancels mid-stream leaves the database exactly as before", async () => {
    const before = await stored();
    const abort = new AbortController();
    const msgs = (async function* (): AsyncGenerator<Msg> {
      yield { header: {} };
      for (let i = 0; i < 5; i++) {
        const times = Array.from({ length: 1000 }, (_, k) => t + BigInt(i * 1000 + k) * h);
        yield { chunks: [{ series: { seriesId }, validTimes: times, values: times.map(() => i) }] };
      }
      abort.abort();
      await new Promise(() => {}); // never finishes on its own
    })();
    const err = await failure(client.upload(msgs, { signal: abort.signal }));
    expect(err.code).toBe(Code.Canceled);
    // The server notices the reset stream and rolls back; poll until its transaction is gone.
    for (let i = 0; i < 100; i++) {
      const busy = await srv.pool.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE state LIKE 'idle in transaction%' OR query LIKE 'COPY%'",
      );
      if (busy.rows[0].n === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await stored()).toBe(before);
    // And the server still works.
    expect((await client.getSeries({ seriesId })).series?.name).toBe("target");
  });

  it("UploadBatch takes the same path and the same checks", async () => {
    const err = await failure(
      client.uploadBatch({ header: {}, chunks: [chunk({ values: [1, Number.NaN] })] }),
    );
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toMatch(/chunks\[0\]\.values\[1\]/);
    const noHeader = await failure(client.uploadBatch({ chunks: [chunk()] }));
    expect(noHeader.rawMessage).toMatch(/^header: /);
  });
});

describe("other RPCs name the bad field", () => {
  it.each([
    [
      "CreateSeries without a name",
      () => client.createSeries({ name: "" }),
      Code.InvalidArgument,
      /^name: is required/,
    ],
    [
      "GetSeries without an id",
      () => client.getSeries({ seriesId: "" }),
      Code.InvalidArgument,
      /^series_id: is required/,
    ],
    [
      "GetSeries of a missing id",
      () => client.getSeries({ seriesId: "99" }),
      Code.NotFound,
      /series 99 not found/,
    ],
    [
      "ListSeries with a forged page token",
      () => client.listSeries({ pageToken: "garbage" }),
      Code.InvalidArgument,
      /^page_token/,
    ],
    [
      "ListSeries with page_size 5000",
      () => client.listSeries({ pageSize: 5000 }),
      Code.InvalidArgument,
      /^page_size/,
    ],
    [
      "UpdateValues with set and clear",
      () =>
        client.updateValues({
          updates: [{ series: { seriesId }, validTime: t, value: 1, clearValue: true }],
        }),
      Code.InvalidArgument,
      /updates\[0\]\.value: set value or clear_value/,
    ],
    [
      "UpdateValues with NaN",
      () => client.updateValues({ updates: [{ series: { seriesId }, validTime: t, value: Number.NaN }] }),
      Code.InvalidArgument,
      /updates\[0\]\.value: must be a finite number/,
    ],
    [
      "UpdateValues with nothing",
      () => client.updateValues({ updates: [] }),
      Code.InvalidArgument,
      /^updates: is empty/,
    ],
  ] as const)("%s", async (_name, call, code, message) => {
    const err = await failure((call as () => Promise<unknown>)());
    expect(err.code).toBe(code);
    expect(err.rawMessage).toMatch(message);
  });

  it("ReadValues checks mode-specific fields", async () => {
    const read = async (req: object) => {
      for await (const _ of client.readValues(req)) {
        // drain
      }
    };
    const noAsOf = await failure(read({ mode: 2 }));
    expect(noAsOf.rawMessage).toMatch(/^as_of: is required in READ_MODE_AS_OF/);
    const strayAsOf = await failure(read({ mode: 1, asOf: { seconds: 1n } }));
    expect(strayAsOf.rawMessage).toMatch(/^as_of: is only allowed/);
    const badId = await failure(read({ seriesIds: ["x"] }));
    expect(badId.rawMessage).toMatch(/^series_ids\[0\]: is not a series id/);
  });
});
