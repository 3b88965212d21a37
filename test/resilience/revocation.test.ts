import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyAdminService } from "../../gen/tdb/v1/key_admin_service_pb.js";
import { Role } from "../../gen/tdb/v1/options_pb.js";
import { TimeSeriesService } from "../../gen/tdb/v1/time_series_service_pb.js";
import { clientFor, failure } from "../helpers/clients.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";
import { chunk, controlledUpload, headerAndChunk, seed } from "./streams.js";

/**
 * Revocation reaches open streams (issue 10, point 6): an upload whose key dies before it
 * commits fails `Unauthenticated` and leaves nothing; a long read re-checks its key every
 * TDB_KEY_RECHECK_INTERVAL (30 s by default, 0.2 s here).
 */
let srv: TestServer;
const admin = () => clientFor(KeyAdminService, srv.url, srv.adminKey, "grpc");
const ts = (key: string) => clientFor(TimeSeriesService, srv.url, key, "grpc");

beforeAll(async () => {
  srv = await startTestServer({ TDB_KEY_RECHECK_INTERVAL: "0.2" });
  await seed(ts(srv.adminKey), "big", 2_000_000);
});
afterAll(async () => {
  await srv?.close();
});

async function runs(): Promise<number> {
  return (await ts(srv.adminKey).listRuns({})).runs.length;
}

describe("a key that dies while its stream is open", () => {
  it("fails an upload whose key was revoked before commit with Unauthenticated and writes nothing", async () => {
    const { key, rawKey } = await admin().createKey({ name: "uploader", role: Role.READWRITE });
    const before = await runs();
    const up = controlledUpload(ts(rawKey));
    up.send(headerAndChunk("revoked-upload"));
    await admin().revokeKey({ keyId: key?.id ?? "" });
    up.send({ chunks: [chunk("revoked-upload", 10, 100)] });
    up.end();
    const err = await failure(up.result);
    expect(Code[err.code]).toBe("Unauthenticated");
    expect(err.rawMessage).toMatch(/revoked, expired or deactivated during the upload.*nothing was written/);
    expect(await runs()).toBe(before);
    expect((await ts(srv.adminKey).listSeries({ name: "revoked-upload" })).series).toEqual([]);
  });

  it("fails an upload whose user was deactivated before commit", async () => {
    const { user, rawKey } = await admin().createUser({ email: "leaver@example.com", role: Role.READWRITE });
    const before = await runs();
    const up = controlledUpload(ts(rawKey));
    up.send(headerAndChunk("deactivated-upload"));
    await admin().deactivateUser({ user: { case: "userId", value: user?.id ?? "" } });
    up.end();
    expect(Code[(await failure(up.result)).code]).toBe("Unauthenticated");
    expect(await runs()).toBe(before);
  });

  it("commits an upload whose key is still valid (the check can pass)", async () => {
    const { rawKey } = await admin().createKey({ name: "kept", role: Role.READWRITE });
    const up = controlledUpload(ts(rawKey));
    up.send(headerAndChunk("kept-upload"));
    up.end();
    expect((await up.result).pointCount).toBe(10n);
  });

  it("ends a long read after its key is revoked, at the next re-check", async () => {
    const { key, rawKey } = await admin().createKey({ name: "reader", role: Role.READ });
    const it = ts(rawKey).readValues({ name: "big", chunkSize: 1000 })[Symbol.asyncIterator]();
    expect((await it.next()).done).toBe(false);
    await admin().revokeKey({ keyId: key?.id ?? "" });
    await new Promise((r) => setTimeout(r, 300));
    let read = 0;
    const err = await failure(
      (async () => {
        for (let r = await it.next(); !r.done; r = await it.next())
          read += r.value.chunks[0]?.validTimes.length ?? 0;
      })(),
    );
    expect(Code[err.code]).toBe("Unauthenticated");
    expect(err.rawMessage).toMatch(/during the read/);
    // It stopped before the end: what was buffered arrived, the rest was not sent.
    expect(read).toBeLessThan(2_000_000 - 1000);
  });
});
