import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/server-process.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

const run = promisify(execFile);

/**
 * The TypeScript client as a user gets it: `npm pack` of clients/ts, installed from the
 * tarball into a scratch project outside the repository, type-checked against its .d.ts
 * and run for a round trip against a live server — nothing resolves into the repository.
 */
let srv: TestServer;
let project: string;
beforeAll(async () => {
  srv = await startTestServer();
  project = await mkdtemp(path.join(tmpdir(), "tdb-ts-consumer-"));
  const packed = path.join(project, "packed");
  await mkdir(packed);
  await run("npm", ["pack", "--silent", "--pack-destination", packed], {
    cwd: path.join(repoRoot, "clients/ts"),
  });
  const tarball = (await readdir(packed)).find((f) => f.endsWith(".tgz"));
  await writeFile(
    path.join(project, "package.json"),
    JSON.stringify({
      name: "consumer",
      private: true,
      type: "module",
      dependencies: { "@tdb-dev/client": `file:packed/${tarball}` },
    }),
  );
  await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: project });
}, 240_000);
afterAll(async () => {
  await srv?.close();
  if (project) await rm(project, { recursive: true, force: true });
});

const program = `
import { createTdbClient, TimeSeriesService, KeyAdminService, Role } from "@tdb-dev/client";
// (No @types/node in the scratch project: only the package's own declarations are checked.)
declare const process: { env: Record<string, string | undefined> };

const options = { baseUrl: process.env.TDB_URL ?? "", apiKey: process.env.TDB_KEY ?? "" };
const tdb = createTdbClient(TimeSeriesService, options);
const up = await tdb.uploadBatch({
  header: { createMissingSeries: true },
  chunks: [{ series: { name: "from_package" }, validTimes: [1_700_000_000_000_000n, 1_700_003_600_000_000n], values: [1.5, 2.5] }],
});
const values: number[] = [];
let name = "";
for await (const res of tdb.readValues({ name: "from_package" }))
  for (const c of res.chunks) {
    name ||= c.series?.name ?? "";
    values.push(...c.values);
  }
const keys = await createTdbClient(KeyAdminService, { ...options, protocol: "connect" }).listKeys({});
const role: Role = Role.ADMIN;
console.log(JSON.stringify({ points: String(up.pointCount), values, name, keys: keys.keys.length, role }));
`;

describe("the @tdb-dev/client package (npm pack, installed outside the repository)", () => {
  it("type-checks a consumer against its declarations and round-trips against a live server", async () => {
    await writeFile(path.join(project, "main.ts"), program);
    await writeFile(
      path.join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          skipLibCheck: false,
          outDir: "out",
          types: [],
        },
        files: ["main.ts"],
      }),
    );
    // The repository's TypeScript compiles it; every import resolves inside the scratch project.
    await run(process.execPath, [path.join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", "."], {
      cwd: project,
    });
    const { stdout } = await run(process.execPath, ["out/main.js"], {
      cwd: project,
      env: { ...process.env, TDB_URL: srv.url, TDB_KEY: srv.adminKey },
    });
    expect(JSON.parse(stdout)).toEqual({
      points: "2",
      values: [1.5, 2.5],
      name: "from_package",
      keys: 1,
      role: 3,
    });
  });
});
