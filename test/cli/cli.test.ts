import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TimeSeriesService } from "../../gen/tdb/v1/time_series_service_pb.js";
import { clientFor } from "../helpers/clients.js";
import { rawKeysIn, type ServerProcess, spawnServer } from "../helpers/server-process.js";
import { freshDatabase } from "../helpers/test-server.js";
import { cliJson, runCli } from "./run-cli.js";

interface Issued {
  key: {
    id: string;
    name: string;
    role: string;
    keyPrefix: string;
    expiresAt: string | null;
    rateLimit: number | null;
    allowedMethods: string[];
    userId: string | null;
    revokedAt: string | null;
  };
  rawKey: string;
  warning: string;
}

let db: Awaited<ReturnType<typeof freshDatabase>>;
let server: ServerProcess;
let dsn: string[];
const rawKeys: string[] = [];

beforeAll(async () => {
  db = await freshDatabase();
  dsn = ["--dsn", db.url];
  const t = await cliJson<{ tenant: { id: string; name: string }; rawKey: string }>([
    "tenants",
    "create",
    "acme",
    ...dsn,
  ]);
  expect(t.tenant.name).toBe("acme");
  rawKeys.push(t.rawKey);
  server = await spawnServer(db.url, { TDB_DEFAULT_RATE_LIMIT: "100000" });
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

async function works(key: string): Promise<void> {
  await clientFor(TimeSeriesService, server.url, key).listSeries({});
}

async function refused(key: string): Promise<Code | undefined> {
  return clientFor(TimeSeriesService, server.url, key)
    .listSeries({})
    .then(
      () => undefined,
      (e: unknown) => ConnectError.from(e).code,
    );
}

describe("tdb users (the seed's user lifecycle)", () => {
  it("create → works → deactivate → Unauthenticated → activate → works → regenerate → old refused, new works", async () => {
    const created = await cliJson<Issued & { user: { id: string; email: string; active: boolean } }>([
      "users",
      "create",
      "alice@example.com",
      "--tenant",
      "acme",
      ...dsn,
    ]);
    rawKeys.push(created.rawKey);
    expect(created.user.active).toBe(true);
    expect(created.key.role).toBe("readwrite");
    expect(created.warning).toMatch(/save this key now/);
    await works(created.rawKey);

    await cliJson(["users", "deactivate", "alice@example.com", "--tenant", "acme", ...dsn]);
    expect(await refused(created.rawKey)).toBe(Code.Unauthenticated);

    await cliJson(["users", "activate", created.user.id, "--tenant", "acme", ...dsn]);
    await works(created.rawKey);

    const regen = await cliJson<Issued>([
      "users",
      "regenerate-key",
      "alice@example.com",
      "--tenant",
      "acme",
      ...dsn,
    ]);
    rawKeys.push(regen.rawKey);
    expect(await refused(created.rawKey)).toBe(Code.Unauthenticated);
    await works(regen.rawKey);

    const listed = await cliJson<{ users: { email: string; active: boolean }[] }>(["users", "list", ...dsn]);
    expect(listed.users).toEqual([expect.objectContaining({ email: "alice@example.com", active: true })]);
  });

  it("prints the raw key once with a warning in human output too", async () => {
    const r = await runCli(["users", "create", "bob@example.com", ...dsn]);
    expect(r.code).toBe(0);
    const keys = rawKeysIn(r.stdout);
    expect(keys).toHaveLength(1);
    rawKeys.push(...keys);
    expect(r.stdout).toMatch(/save this key now: it is shown this once/);
  });
});

describe("tdb keys", () => {
  it("creates with role, expiry, limit and allow-list; lists without raw keys; revokes once; rotates keeping settings", async () => {
    const created = await cliJson<Issued>([
      "keys",
      "create",
      "--name",
      "ci",
      "--role",
      "read",
      "--expires-in-days",
      "2",
      "--rate-limit",
      "9",
      "--allow",
      "tdb.v1.TimeSeriesService/ListSeries",
      "tdb.v1.TimeSeriesService/ReadValues",
      "--user",
      "alice@example.com",
      ...dsn,
    ]);
    rawKeys.push(created.rawKey);
    expect(created.key).toMatchObject({ name: "ci", role: "read", rateLimit: 9 });
    expect(created.key.allowedMethods).toEqual([
      "tdb.v1.TimeSeriesService/ListSeries",
      "tdb.v1.TimeSeriesService/ReadValues",
    ]);
    expect(created.key.expiresAt).not.toBeNull();
    expect(created.key.userId).not.toBeNull();
    await works(created.rawKey);

    const list = await runCli(["keys", "list", "--json", ...dsn]);
    expect(list.code).toBe(0);
    expect(rawKeysIn(list.stdout.replaceAll(/"keyPrefix": "[^"]*"/g, ""))).toEqual([]);
    for (const k of rawKeys) expect(list.stdout).not.toContain(k);
    const human = await runCli(["keys", "list", ...dsn]);
    for (const k of rawKeys) expect(human.stdout).not.toContain(k);

    const rotated = await cliJson<Issued>(["keys", "rotate", created.key.id, ...dsn]);
    rawKeys.push(rotated.rawKey);
    expect(rotated.key).toMatchObject({
      name: "ci",
      role: "read",
      rateLimit: 9,
      expiresAt: created.key.expiresAt,
      userId: created.key.userId,
      allowedMethods: created.key.allowedMethods,
    });
    expect(await refused(created.rawKey)).toBe(Code.Unauthenticated);
    await works(rotated.rawKey);

    const revoked = await runCli(["keys", "revoke", rotated.key.id, ...dsn]);
    expect(revoked.code).toBe(0);
    expect(await refused(rotated.rawKey)).toBe(Code.Unauthenticated);
    const again = await runCli(["keys", "revoke", rotated.key.id, ...dsn]);
    expect(again.code).toBe(3);
    expect(again.stderr).toBe(`tdb: key ${rotated.key.id} not found\n`);
  });
});

describe("tdb as a script sees it", () => {
  it.each([
    [["keys", "create", "--name", "x", "--role", "root"], 2, /^tdb: role: must be read, readwrite or admin/],
    [["keys", "list", "--tenant", "nope"], 3, /^tdb: tenant nope not found$/],
    [["tenants", "create", "acme"], 4, /^tdb: tenant acme already exists$/],
    [["users", "deactivate", "nobody@example.com"], 3, /^tdb: user nobody@example.com not found$/],
    [["keys", "rotate", "not-an-id"], 2, /^tdb: key_id: is not an id issued by this server$/],
  ])("tdb %j exits %i with one line", async (args, code, message) => {
    const r = await runCli([...args, ...dsn]);
    expect(r.code).toBe(code);
    expect(r.stdout).toBe("");
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr.trimEnd()).toMatch(message);
  });

  it("exits 1 with one line when the database is unreachable", async () => {
    const r = await runCli(["tenants", "list", "--dsn", "postgresql://nobody:x@127.0.0.1:1/none"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^tdb: /);
  });

  it("has --help on every command", async () => {
    const commands = [
      [],
      ["tenants"],
      ["tenants", "create"],
      ["users"],
      ["users", "regenerate-key"],
      ["keys"],
      ["keys", "create"],
      ["keys", "rotate"],
      ["serve"],
      ["migrate"],
    ];
    const results = await Promise.all(commands.map((args) => runCli([...args, "--help"])));
    for (const [i, r] of results.entries()) {
      expect(r.code, commands[i]?.join(" ")).toBe(0);
      expect(r.stdout).toMatch(/^Usage: tdb/);
    }
  });

  it("reports usage errors as one line `tdb: <reason>` with exit code 2", async () => {
    for (const args of [["keys", "frobnicate"], ["keys", "list", "--bogus"], ["nonsense"]]) {
      const r = await runCli(args);
      expect(r.code).toBe(2);
      expect(r.stderr.trimEnd().split("\n")).toEqual([
        expect.stringMatching(/^tdb: unknown (command|option) '.+' \(see tdb --help\)$/),
      ]);
    }
  });

  it("prints its version and the Node it runs on with --version", async () => {
    const r = await runCli(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^tdb \d+\.\d+\.\d+ \(Node v\d+\.\d+\.\d+\)$/);
  });

  it("says so when a list is empty instead of printing nothing", async () => {
    await cliJson(["tenants", "create", "empty-co", ...dsn]);
    const users = await runCli(["users", "list", "--tenant", "empty-co", ...dsn]);
    expect(users.stdout.trim()).toBe("no users");
  });

  it("migrate is idempotent and reports nothing to do", async () => {
    expect(await cliJson(["migrate", ...dsn])).toEqual({ applied: [] });
  });

  it("no raw key reaches the server's logs", () => {
    const logs = server.output();
    expect(logs).toMatch(/"method":"tdb.v1.TimeSeriesService\/ListSeries"/);
    for (const k of rawKeys) expect(logs).not.toContain(k);
    expect(rawKeysIn(logs)).toEqual([]);
  });
});

describe("tdb on the embedded database (no --dsn)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "tdb-cli-"));
    await chmod(dir, 0o755);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("works whether the server is running or not, on the same data folder", async () => {
    const env = { TDB_DATA_DIR: path.join(dir, "data"), TDB_DATABASE_URL: "" };
    // Server not running: the CLI starts the embedded PostgreSQL, and stops it again.
    const t = await cliJson<{ rawKey: string }>(["tenants", "create", "solo"], env);
    const embedded = await spawnServer(undefined, { ...env, TDB_DEFAULT_RATE_LIMIT: "1000" });
    try {
      expect(embedded.output()).not.toContain("admin key:");
      await clientFor(TimeSeriesService, embedded.url, t.rawKey).listSeries({});
      // Server running: the CLI shares its PostgreSQL (and leaves it running).
      const u = await cliJson<{ rawKey: string }>(["users", "create", "carol@example.com"], env);
      await clientFor(TimeSeriesService, embedded.url, u.rawKey).listSeries({});
      await cliJson(["users", "deactivate", "carol@example.com"], env);
      const code = await clientFor(TimeSeriesService, embedded.url, u.rawKey)
        .listSeries({})
        .then(
          () => undefined,
          (e: unknown) => ConnectError.from(e).code,
        );
      expect(code).toBe(Code.Unauthenticated);
    } finally {
      await embedded.stop();
    }
    const after = await cliJson<{ tenants: { name: string }[] }>(["tenants", "list"], env);
    expect(after.tenants.map((x) => x.name)).toEqual(["solo"]);
  });
});
