import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TimeSeriesService } from "../../gen/tdb/v1/time_series_service_pb.js";
import { createKey } from "../../src/store/keys-store.js";
import { withTenant } from "../../src/store/tenant-tx.js";
import { clientFor, protocols } from "../helpers/clients.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";
import { awayFromMinuteEnd, closeWindow, windowEnd } from "../keys/helpers/minute.js";

const defaultLimit = 4;
let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer({ TDB_DEFAULT_RATE_LIMIT: String(defaultLimit) });
});
afterAll(async () => {
  await srv?.close();
});

/** Keys are made through the store: the admin key itself is limited to 4 a minute here. */
async function key(rateLimit?: number) {
  return withTenant(srv.pool, srv.tenantId, (c) =>
    createKey(c, srv.tenantId, {
      name: "limited",
      role: "read",
      expiresInDays: undefined,
      rateLimit,
      allowedMethods: [],
      userId: undefined,
    }),
  );
}

async function call(rawKey: string) {
  const res = await fetch(`${srv.url}/tdb.v1.TimeSeriesService/ListSeries`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": rawKey },
    body: "{}",
  });
  await res.arrayBuffer();
  return res;
}

describe("rate limit", () => {
  it("uses the server default, counts down in the headers, then answers 429 with Retry-After", async () => {
    const { key: k, rawKey } = await key();
    await awayFromMinuteEnd(srv.pool);
    const reset = String(await windowEnd(srv.pool));
    for (let i = 1; i <= defaultLimit; i++) {
      const res = await call(rawKey);
      expect(res.status).toBe(200);
      expect(res.headers.get("x-ratelimit-limit")).toBe(String(defaultLimit));
      expect(res.headers.get("x-ratelimit-remaining")).toBe(String(defaultLimit - i));
      expect(res.headers.get("x-ratelimit-reset")).toBe(reset);
    }
    const over = await call(rawKey);
    expect(over.status).toBe(429);
    expect(over.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(over.headers.get("x-ratelimit-reset")).toBe(reset);
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(0);
    await closeWindow(srv.pool, k.id);
    expect((await call(rawKey)).status).toBe(200);
  });

  it("uses the key's own limit when it has one", async () => {
    const { rawKey } = await key(2);
    await awayFromMinuteEnd(srv.pool);
    expect((await call(rawKey)).headers.get("x-ratelimit-limit")).toBe("2");
    expect((await call(rawKey)).status).toBe(200);
    expect((await call(rawKey)).status).toBe(429);
  });

  it.each(protocols)(
    "is ResourceExhausted with the four values in the error metadata over %s",
    async (protocol) => {
      const { rawKey } = await key(1);
      await awayFromMinuteEnd(srv.pool);
      const client = clientFor(TimeSeriesService, srv.url, rawKey, protocol);
      await client.listSeries({});
      const err = await client.listSeries({}).catch((e: unknown) => ConnectError.from(e));
      expect(err).toBeInstanceOf(ConnectError);
      const e = err as ConnectError;
      expect(e.code).toBe(Code.ResourceExhausted);
      for (const h of ["retry-after", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"]) {
        expect(e.metadata.get(h), h).not.toBeNull();
      }
    },
  );

  it.each(protocols)("sends the limit headers on successful calls over %s", async (protocol) => {
    const { rawKey } = await key(50);
    await awayFromMinuteEnd(srv.pool);
    let header: Headers | undefined;
    let trailer: Headers | undefined;
    await clientFor(TimeSeriesService, srv.url, rawKey, protocol).listSeries(
      {},
      {
        onHeader: (h) => {
          header = h;
        },
        onTrailer: (t) => {
          trailer = t;
        },
      },
    );
    const get = (name: string) => header?.get(name) ?? trailer?.get(name) ?? null;
    expect(get("x-ratelimit-limit")).toBe("50");
    expect(get("x-ratelimit-remaining")).toBe("49");
    expect(Number(get("x-ratelimit-reset"))).toBe(await windowEnd(srv.pool));
  });

  it("keeps last_used_at current, writing it at most once a minute", async () => {
    const { key: k, rawKey } = await key(100);
    await awayFromMinuteEnd(srv.pool);
    const lastUsed = async () =>
      (
        await srv.pool.query<{ t: string | null }>(
          "SELECT last_used_at::text AS t FROM api_keys WHERE id = $1",
          [k.id],
        )
      ).rows[0]?.t;
    expect(await lastUsed()).toBeNull();
    await call(rawKey);
    const first = await lastUsed();
    expect(first).not.toBeNull();
    await call(rawKey);
    await call(rawKey);
    expect(await lastUsed()).toBe(first);
    await srv.pool.query("UPDATE api_keys SET last_used_at = now() - interval '2 minutes' WHERE id = $1", [
      k.id,
    ]);
    await call(rawKey);
    expect(await lastUsed()).not.toBe(first);
  });
});
