import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import pg from "pg";
import type {
  TimeSeriesService,
  UploadRequest,
  UploadRequestSchema,
} from "../../gen/tdb/v1/time_series_service_pb.js";

type Upload = MessageInitShape<typeof UploadRequestSchema>;

/**
 * An upload whose messages the test sends one by one: `send` queues a message, `end`
 * finishes the request stream, `result` is the call's outcome. Lets a test hold a stream
 * open, break something underneath it, then go on.
 */
export function controlledUpload(client: Client<typeof TimeSeriesService>, signal?: AbortSignal) {
  const queue: (Upload | "end")[] = [];
  let wake: (() => void) | undefined;
  async function* messages(): AsyncGenerator<Upload> {
    for (;;) {
      while (queue.length === 0) await new Promise<void>((r) => (wake = r));
      const m = queue.shift();
      if (m === "end" || m === undefined) return;
      yield m;
    }
  }
  const push = (m: Upload | "end") => {
    queue.push(m);
    wake?.();
  };
  const result = client.upload(messages(), { signal });
  // The outcome is awaited by the test when it wants it; never unhandled before that.
  result.catch(() => {});
  return {
    send: (m: Upload) => push(m),
    end: () => push("end"),
    result,
  };
}

/** A first upload message: a run header that creates missing series, and one chunk. */
export function headerAndChunk(series: string, n = 10, from = 0): Upload {
  return {
    header: { workflowId: "resilience", createMissingSeries: true },
    chunks: [chunk(series, n, from)],
  };
}

/** A chunk of `n` points of `series` at 1 µs steps starting at `from`. */
export function chunk(series: string, n: number, from = 0) {
  return {
    series: { name: series },
    validTimes: Array.from({ length: n }, (_, i) => BigInt(from + i + 1) * 1_000_000n),
    values: Array.from({ length: n }, (_, i) => i * 0.5),
  };
}

/** Uploads `n` points to `series` in one call (setup for reads that must outlast a window). */
export async function seed(
  client: Client<typeof TimeSeriesService>,
  series: string,
  n: number,
): Promise<void> {
  async function* messages(): AsyncGenerator<Upload> {
    const step = 50_000;
    for (let from = 0; from < n; from += step) {
      const c = chunk(series, Math.min(step, n - from), from);
      yield from === 0
        ? { header: { workflowId: "seed", createMissingSeries: true }, chunks: [c] }
        : { chunks: [c] };
    }
  }
  await client.upload(messages());
}

/** The backends of one database, as PostgreSQL's pg_stat_activity shows them. */
export async function backends(
  adminUrl: string,
  where = "true",
): Promise<{ pid: number; state: string | null; query: string }[]> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    const { rows } = await c.query(
      `SELECT pid, state, query FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
          AND (${where})`,
    );
    return rows;
  } finally {
    await c.end();
  }
}

/** Terminates the backends `where` selects; returns how many. */
export async function terminate(adminUrl: string, where: string): Promise<number> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    const { rows } = await c.query(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
          AND (${where})`,
    );
    return rows.length;
  } finally {
    await c.end();
  }
}

/** Polls `check` until it returns true (at most `tries` times, 100 ms apart); throws otherwise. */
export async function eventually(what: string, check: () => Promise<boolean>, tries = 300): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gave up waiting until ${what}`);
}

export type { UploadRequest };
