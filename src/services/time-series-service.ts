import { create, fromJson, type JsonObject, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import { StructSchema, type Timestamp, TimestampSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import type pg from "pg";
import {
  type ReadValuesResponse,
  ReadValuesResponseSchema,
  type TimeSeriesService,
  type UploadRequest,
} from "../../gen/tdb/v1/time_series_service_pb.js";
import {
  PointChunkSchema,
  ReadMode,
  type RunHeader,
  SeriesKind,
  SeriesRefSchema,
  type SeriesSchema,
} from "../../gen/tdb/v1/types_pb.js";
import { changedBy } from "../auth/principal.js";
import { AlreadyExistsError, InvalidInputError, NotFoundError } from "../errors.js";
import type { Budget } from "../server/budget.js";
import { applyCorrections, type Change } from "../store/corrections.js";
import { Ingest, type IngestResult } from "../store/ingest.js";
import { keyStillValid } from "../store/key-validity.js";
import type { SeriesName } from "../store/merge.js";
import { seriesKey } from "../store/point-chunk.js";
import { Mode, type ReadBatch, readBatches, readEncodedChunks } from "../store/read-values.js";
import { listRuns } from "../store/runs-store.js";
import * as seriesStore from "../store/series-store.js";
import { streamWithTenant, withTenant } from "../store/tenant-tx.js";
import { ingestChunk, seriesReference } from "./chunk-input.js";
import { callerOf } from "./context.js";
import { cutStream, idleLimited, keyGone } from "./stream-guards.js";
import * as v from "./validate.js";

/** Limits the service enforces on top of the per-message byte limit (README, Reliability). */
export interface TimeSeriesLimits {
  maxUploadPoints: number;
  /** The database connections streaming calls may hold (TDB_DB_STREAM_CONNECTIONS). */
  streamConnections: Budget;
  /** How long a stream waits for one of them. */
  acquireTimeoutMs: number;
  /** An upload that sends nothing for this long is ended (TDB_STREAM_IDLE_TIMEOUT). */
  uploadIdleMs: number;
  /** A read whose client takes nothing for this long is ended (TDB_READ_STALL_TIMEOUT). */
  readStallMs: number;
  /** How often a read re-checks its key (TDB_KEY_RECHECK_INTERVAL). */
  keyRecheckMs: number;
}

/** tdb.v1.TimeSeriesService: validates, calls the store in a tenant transaction, maps results. */
export function timeSeriesService(
  pool: pg.Pool,
  limits: TimeSeriesLimits,
): ServiceImpl<typeof TimeSeriesService> {
  /**
   * Upload: waits for the first message before it takes anything (an upload that never
   * sends holds no connection), then one connection from the streaming budget for the
   * whole transaction; the client must keep sending (uploadIdleMs).
   */
  async function upload(ctx: HandlerContext, requests: AsyncIterable<UploadRequest>) {
    const it = idleLimited(requests, limits.uploadIdleMs, "the upload")[Symbol.asyncIterator]();
    const first = await it.next();
    const release = await limits.streamConnections.acquire(limits.acquireTimeoutMs, ctx.signal);
    try {
      return await ingest(
        ctx,
        (async function* () {
          if (first.done) return;
          yield first.value;
          for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
        })(),
      );
    } finally {
      release();
    }
  }

  /** Shared by Upload and UploadBatch: one ingest path. */
  async function ingest(
    ctx: HandlerContext,
    messages: AsyncIterable<UploadRequest> | Iterable<UploadRequest>,
  ) {
    const caller = callerOf(ctx);
    return withTenant(pool, caller.tenantId, async (c) => {
      let run: Ingest | undefined;
      let message = 0;
      let chunkIndex = 0;
      try {
        for await (const m of messages) {
          if (message === 0) {
            if (!m.header)
              throw new InvalidInputError("header", "the first message must carry the run header");
            run = await Ingest.begin(c, caller.tenantId, runInput(m.header, changedBy(caller), limits));
          } else if (m.header) {
            throw new InvalidInputError(
              "header",
              `only the first message may carry the header (message ${message} repeats it)`,
            );
          }
          for (const chunk of m.chunks) {
            const path = `chunks[${chunkIndex++}]`;
            await (run as Ingest).add(ingestChunk(path, chunk));
          }
          message++;
        }
        // A client that cancels (RST_STREAM) ends the request stream as if it were complete:
        // only the signal tells. A cancelled upload must not commit what arrived so far.
        cancelled(ctx);
        if (!run)
          throw new InvalidInputError(
            "header",
            "the upload is empty: the first message must carry the run header",
          );
        const result = await run.finish();
        cancelled(ctx);
        // A key revoked while the upload streamed must not commit it (key-validity.ts).
        if (caller.kind === "api_key" && !(await keyStillValid(c, caller.tenantId, caller.keyId, true)))
          throw keyGone("upload");
        return uploadResponse(result);
      } catch (err) {
        await run?.abort(err);
        throw err;
      }
    });
  }

  return {
    async createSeries(req, ctx) {
      const caller = callerOf(ctx);
      const input = {
        name: v.requireText("name", req.name, 200),
        labels: v.validLabels("labels", req.labels),
        unit: v.boundedText("unit", req.unit, 100),
        description: v.boundedText("description", req.description, 10_000),
        kind: seriesKind("kind", req.kind),
      };
      try {
        const row = await withTenant(pool, caller.tenantId, (c) =>
          seriesStore.createSeries(c, caller.tenantId, input),
        );
        return { series: seriesMessage(row) };
      } catch (err) {
        if (err instanceof seriesStore.SeriesExistsError) throw new AlreadyExistsError(err.message);
        throw err;
      }
    },

    async getSeries(req, ctx) {
      const caller = callerOf(ctx);
      const id = v.seriesIdFrom("series_id", req.seriesId);
      const row = await withTenant(pool, caller.tenantId, (c) => seriesStore.getSeries(c, id));
      if (!row) throw new NotFoundError(`series ${req.seriesId} not found`);
      return { series: seriesMessage(row) };
    },

    async listSeries(req, ctx) {
      const caller = callerOf(ctx);
      const limit = v.pageSize("page_size", req.pageSize);
      const after = v.decodePageToken("page_token", req.pageToken, {
        name: v.cursor.text(200),
        id: v.cursor.decimalId,
      });
      const rows = await withTenant(pool, caller.tenantId, (c) =>
        seriesStore.listSeries(c, {
          name: req.name,
          labels: v.validLabels("labels", req.labels),
          unit: req.unit,
          limit: limit + 1,
          after,
        }),
      );
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        series: page.map(seriesMessage),
        nextPageToken: rows.length > limit && last ? v.encodePageToken({ name: last.name, id: last.id }) : "",
      };
    },

    async deleteSeries(req, ctx) {
      const caller = callerOf(ctx);
      const id = v.seriesIdFrom("series_id", req.seriesId);
      const deleted = await withTenant(pool, caller.tenantId, (c) => seriesStore.deleteSeries(c, id));
      if (deleted === undefined) throw new NotFoundError(`series ${req.seriesId} not found`);
      return { deletedValueCount: BigInt(deleted) };
    },

    upload(requests, ctx) {
      return upload(ctx, requests);
    },

    uploadBatch(req, ctx) {
      return ingest(ctx, [{ header: req.header, chunks: req.chunks } as UploadRequest]);
    },

    async *readValues(req, ctx) {
      const caller = callerOf(ctx);
      const mode = readMode(req.mode);
      const asOfUs = v.timestampUs("as_of", req.asOf);
      if (mode === Mode.AsOf && asOfUs === undefined)
        throw new InvalidInputError("as_of", "is required in READ_MODE_AS_OF");
      if (mode !== Mode.AsOf && asOfUs !== undefined)
        throw new InvalidInputError("as_of", "is only allowed in READ_MODE_AS_OF");
      if (req.chunkSize < 0 || req.chunkSize > 100_000)
        throw new InvalidInputError("chunk_size", "must be between 1 and 100000");
      if (req.valuesOnly && mode !== Mode.Latest && mode !== Mode.AsOf)
        throw new InvalidInputError("values_only", "is only allowed in READ_MODE_LATEST and READ_MODE_AS_OF");
      const filter = {
        mode,
        valuesOnly: req.valuesOnly,
        seriesIds: req.seriesIds.map((id, i) => v.seriesIdFrom(`series_ids[${i}]`, id)),
        name: req.name,
        labels: v.validLabels("labels", req.labels),
        startValidUs: v.timestampUs("start_valid", req.startValid),
        endValidUs: v.timestampUs("end_valid", req.endValid),
        startKnownUs: v.timestampUs("start_known", req.startKnown),
        endKnownUs: v.timestampUs("end_known", req.endKnown),
        asOfUs,
      };
      const batch = req.chunkSize || 10_000;
      // Binary codecs get chunks encoded straight from PostgreSQL's bytes; JSON needs objects.
      const binary = !(ctx.requestHeader.get("content-type") ?? "").includes("json");
      const release = await limits.streamConnections.acquire(limits.acquireTimeoutMs, ctx.signal);
      const responses = streamWithTenant(pool, caller.tenantId, async function* (c) {
        if (binary) {
          for await (const chunks of readEncodedChunks(c, filter, batch, structBytes, seriesRefBytes))
            yield encodedResponse(chunks);
        } else for await (const b of readBatches(c, filter, batch)) yield readResponse(b);
      });
      // A client that goes away mid-result leaves this generator suspended at a yield that
      // is never resumed; closing the inner one runs its cleanup (stop the COPY, roll back,
      // give the connection back to the pool).
      const close = () => {
        void responses.return(undefined).catch(() => {});
        release();
      };
      ctx.signal.addEventListener("abort", close, { once: true });
      let stall: NodeJS.Timeout | undefined;
      let checked = performance.now();
      try {
        for await (const response of responses) {
          if (caller.kind === "api_key" && performance.now() - checked >= limits.keyRecheckMs) {
            if (!(await keyStillValid(pool, caller.tenantId, caller.keyId))) throw keyGone("read");
            checked = performance.now();
          }
          // Cleared when the client takes the message; fires if it stops reading.
          stall = setTimeout(() => cutStream(ctx), limits.readStallMs);
          yield response;
          clearTimeout(stall);
        }
      } finally {
        clearTimeout(stall);
        ctx.signal.removeEventListener("abort", close);
        release();
      }
    },

    async updateValues(req, ctx) {
      const caller = callerOf(ctx);
      if (req.updates.length === 0) throw new InvalidInputError("updates", "is empty");
      if (req.updates.length > 10_000)
        throw new InvalidInputError("updates", "at most 10000 corrections per call");
      const corrections = req.updates.map((u, i) => {
        const path = `updates[${i}]`;
        const both = (name: string, set: boolean, clear: boolean) => {
          if (set && clear)
            throw new InvalidInputError(`${path}.${name}`, `set ${name} or clear_${name}, not both`);
        };
        both("value", u.value !== undefined, u.clearValue);
        both("annotation", u.annotation !== undefined, u.clearAnnotation);
        both("tags", u.tags !== undefined, u.clearTags);
        both("metadata", u.metadata !== undefined, u.clearMetadata);
        return {
          path,
          ref: seriesReference(`${path}.series`, u.series),
          validTimeUs: v.timeUs(`${path}.valid_time`, u.validTime),
          runId: u.runId === "" ? undefined : v.runIdFrom(`${path}.run_id`, u.runId),
          value: change(u.clearValue, u.value === undefined ? undefined : v.finite(`${path}.value`, u.value)),
          annotation: change(u.clearAnnotation, u.annotation),
          tags: change(u.clearTags, u.tags?.values),
          metadata: change(u.clearMetadata, u.metadata ? JSON.stringify(u.metadata) : undefined),
        };
      });
      const result = await withTenant(pool, caller.tenantId, (c) =>
        applyCorrections(c, caller.tenantId, corrections, changedBy(caller)),
      );
      return { updatedCount: BigInt(result.updated), skippedCount: BigInt(result.skipped) };
    },

    async listRuns(req, ctx) {
      const caller = callerOf(ctx);
      const limit = v.pageSize("page_size", req.pageSize);
      const after = v.decodePageToken("page_token", req.pageToken, {
        knownTimeUs: v.cursor.timeUs,
        id: v.cursor.decimalId,
      });
      const rows = await withTenant(pool, caller.tenantId, (c) =>
        listRuns(c, {
          workflowId: req.workflowId,
          startKnownUs: v.timestampUs("start_known", req.startKnown),
          endKnownUs: v.timestampUs("end_known", req.endKnown),
          limit: limit + 1,
          after,
        }),
      );
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        runs: page.map((r) => ({
          runId: r.id,
          knownTime: tsFromUs(r.knownTimeUs),
          workflowId: r.workflowId,
          params: r.params as JsonObject,
          startedAt: r.startedAtUs ? tsFromUs(r.startedAtUs) : undefined,
          finishedAt: r.finishedAtUs ? tsFromUs(r.finishedAtUs) : undefined,
          createdAt: tsFromUs(r.createdAtUs),
          pointCount: BigInt(r.pointCount),
        })),
        nextPageToken:
          rows.length > limit && last
            ? v.encodePageToken({ knownTimeUs: last.knownTimeUs, id: last.id })
            : "",
      };
    },
  };
}

/** Throws Canceled when the client has gone (so the transaction rolls back). */
function cancelled(ctx: HandlerContext): void {
  if (ctx.signal.aborted) throw new ConnectError("the client cancelled the upload", Code.Canceled);
}

function change<T>(clear: boolean, value: T | undefined): Change<T> {
  if (clear) return null;
  return value === undefined ? undefined : { set: value };
}

function runInput(h: RunHeader, createdBy: string, limits: TimeSeriesLimits) {
  const startedAtUs = v.timestampUs("header.started_at", h.startedAt);
  const finishedAtUs = v.timestampUs("header.finished_at", h.finishedAt);
  if (startedAtUs !== undefined && finishedAtUs !== undefined && finishedAtUs < startedAtUs) {
    throw new InvalidInputError("header.finished_at", "is before header.started_at");
  }
  return {
    knownTimeUs: v.timestampUs("header.known_time", h.knownTime),
    workflowId: v.boundedText("header.workflow_id", h.workflowId, 200),
    paramsJson: JSON.stringify(h.params ?? {}),
    startedAtUs,
    finishedAtUs,
    createdBy,
    createMissingSeries: h.createMissingSeries,
    newSeriesKind: seriesKind("header.new_series_kind", h.newSeriesKind),
    maxPoints: limits.maxUploadPoints,
  };
}

function seriesKind(field: string, kind: SeriesKind): number {
  switch (kind) {
    case SeriesKind.UNSPECIFIED:
    case SeriesKind.ACTUAL:
      return SeriesKind.ACTUAL;
    case SeriesKind.FORECAST:
      return SeriesKind.FORECAST;
    default:
      throw new InvalidInputError(field, `unknown series kind ${kind}`);
  }
}

function readMode(mode: ReadMode): Mode {
  switch (mode) {
    case ReadMode.UNSPECIFIED:
    case ReadMode.LATEST:
      return Mode.Latest;
    case ReadMode.AS_OF:
      return Mode.AsOf;
    case ReadMode.ALL_VINTAGES:
      return Mode.AllVintages;
    case ReadMode.CORRECTIONS:
      return Mode.Corrections;
    default:
      throw new InvalidInputError("mode", `unknown read mode ${mode}`);
  }
}

function uploadResponse(r: IngestResult) {
  return {
    runId: r.runId,
    pointCount: BigInt(r.pointCount),
    seriesIds: Object.fromEntries(r.series.map((s) => [seriesKey(s.name, s.labels), s.seriesId])),
    seriesCounts: r.series.map((s) => ({
      seriesId: s.seriesId,
      name: s.name,
      labels: s.labels,
      pointCount: BigInt(s.pointCount),
    })),
  };
}

function seriesMessage(r: seriesStore.SeriesRow): MessageInitShape<typeof SeriesSchema> {
  return {
    seriesId: r.id,
    name: r.name,
    labels: r.labels,
    unit: r.unit,
    description: r.description,
    kind: r.kind,
    createdAt: tsFromUs(r.createdAtUs),
  };
}

/** A Timestamp from epoch microseconds given as a decimal string (exact, no Date rounding). */
export function tsFromUs(us: string): Timestamp {
  const n = BigInt(us);
  let seconds = n / 1_000_000n;
  let micros = n % 1_000_000n;
  if (micros < 0n) {
    micros += 1_000_000n;
    seconds -= 1n;
  }
  return create(TimestampSchema, { seconds, nanos: Number(micros) * 1000 });
}

/** A response whose `chunks` are already encoded: written verbatim as field 1 by protobuf-es. */
function encodedResponse(chunks: Uint8Array[]): ReadValuesResponse {
  const res = create(ReadValuesResponseSchema);
  res.$unknown = chunks.map((data) => ({ no: 1, wireType: WireType.LengthDelimited, data }));
  return res;
}

/** A read chunk's SeriesRef: always the id; name and labels on a series' first chunk. */
function seriesRefBytes(seriesId: string, named: SeriesName | undefined): Uint8Array {
  return toBinary(SeriesRefSchema, create(SeriesRefSchema, { seriesId, ...named }));
}

/** One point's metadata (JSON object text) as google.protobuf.Struct bytes. */
function structBytes(json: string): Uint8Array {
  return toBinary(StructSchema, fromJson(StructSchema, JSON.parse(json)));
}

/** Cuts a columnar batch into one PointChunk per run of one series (arrays are sliced, not rebuilt). */
function readResponse(b: ReadBatch): ReadValuesResponse {
  const chunks = b.series.map(({ seriesId, start, end, named }) => {
    const chunk = create(PointChunkSchema, { series: { seriesId, ...named } });
    chunk.validTimes = b.validTimes.slice(start, end);
    chunk.values = b.values.slice(start, end);
    if (b.nulls) chunk.nulls = b.nulls.slice(start, end);
    if (b.validTimeEnds) chunk.validTimeEnds = b.validTimeEnds.slice(start, end);
    if (b.annotations) chunk.annotations = b.annotations.slice(start, end);
    if (b.tags)
      chunk.tags = b.tags.slice(start, end).map((values) => ({ $typeName: "tdb.v1.StringList", values }));
    if (b.metadata)
      chunk.metadata = b.metadata
        .slice(start, end)
        .map((m) => (m === "" ? {} : (JSON.parse(m) as JsonObject)));
    chunk.knownTimes = b.knownTimes.slice(start, end);
    chunk.runIds = b.runIds.slice(start, end);
    chunk.changeTimes = b.changeTimes.slice(start, end);
    if (b.changedBy) chunk.changedBy = b.changedBy.slice(start, end);
    return chunk;
  });
  return create(ReadValuesResponseSchema, { chunks });
}
