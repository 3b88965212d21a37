import { timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter, cors as connectCors } from "@connectrpc/connect";
import cors from "cors";
import type pg from "pg";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { KeyAdminService } from "../../gen/tdb/v1/key_admin_service_pb.js";
import { TimeSeriesService } from "../../gen/tdb/v1/time_series_service_pb.js";
import { authenticate, resolveCaller } from "../auth/authenticate.js";
import { credentialSources } from "../auth/credential-sources.js";
import { policy } from "../auth/policy.js";
import { rateLimit } from "../auth/rate-limit.js";
import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import { keyAdminService } from "../services/key-admin-service.js";
import { timeSeriesService } from "../services/time-series-service.js";
import { Budget } from "./budget.js";
import { decodeErrors, reclassifyDecodeErrors } from "./decode-errors.js";
import { mapErrors, toConnectError } from "./error-interceptor.js";
import { HealthState, registerHealth } from "./health.js";
import { type DualHandler, type Listener, listen } from "./listener.js";
import { logCalls } from "./log-interceptor.js";
import { Metrics } from "./metrics.js";
import { Readiness } from "./readiness.js";
import { registerReflection } from "./reflection.js";
import { rejectNul } from "./reject-nul.js";
import { recordFailure, rpcHandler } from "./rpc-handler.js";
import { capStreams } from "./stream-caps.js";

/** A running TDB server. */
export interface TdbServer {
  listener: Listener;
  /** Readiness (gRPC health, `/readyz`): false while PostgreSQL is unreachable or draining. */
  readiness: Readiness;
  /**
   * Shuts down in the order load balancers need: report not ready at once, keep serving
   * for `drainDelayMs` so they notice, then stop accepting, let open calls and streams
   * finish within `graceMs`, and close. Defaults: TDB_DRAIN_DELAY, TDB_SHUTDOWN_GRACE.
   */
  close(opts?: { drainDelayMs?: number; graceMs?: number }): Promise<void>;
}

/** Headers browsers may send and read (CORS). */
const allowedHeaders = [...connectCors.allowedHeaders, "x-api-key", "authorization"];
const exposedHeaders = [
  ...connectCors.exposedHeaders,
  "x-ratelimit-limit",
  "x-ratelimit-remaining",
  "x-ratelimit-reset",
  "retry-after",
];

/**
 * Assembles the server: Connect, gRPC and gRPC-Web for both services plus reflection and
 * health on one port, `/healthz`, `/readyz` and `/metrics` as plain HTTP, CORS for
 * configured origins. The caller is resolved from the headers before the body is read
 * (rpc-handler.ts); interceptors then run outermost first: metrics → log → errors →
 * authenticate → policy → rate limit → stream caps → decode errors → no NUL in text.
 */
export async function startServer(config: Config, pool: pg.Pool, logger: Logger): Promise<TdbServer> {
  const metrics = new Metrics();
  const shutdown = new AbortController();
  const services: DescService[] = [TimeSeriesService, KeyAdminService, Health];
  const health = new HealthState(services.map((s) => s.typeName));
  const readiness = new Readiness(pool, health, logger);
  const sources = credentialSources(config, pool);
  const streamConnections = new Budget(
    Math.min(config.TDB_DB_STREAM_CONNECTIONS, Math.max(1, (pool.options.max ?? 10) - 1)),
    `all database connections for streaming calls on this server are busy (TDB_DB_STREAM_CONNECTIONS); retry in a few seconds`,
  );

  const routes = (router: ConnectRouter) => {
    router.service(
      TimeSeriesService,
      timeSeriesService(pool, {
        maxUploadPoints: config.TDB_MAX_UPLOAD_POINTS,
        streamConnections,
        acquireTimeoutMs: config.TDB_DB_ACQUIRE_TIMEOUT * 1000,
        uploadIdleMs: config.TDB_STREAM_IDLE_TIMEOUT * 1000,
        readStallMs: config.TDB_READ_STALL_TIMEOUT * 1000,
        keyRecheckMs: config.TDB_KEY_RECHECK_INTERVAL * 1000,
      }),
    );
    router.service(KeyAdminService, keyAdminService(pool, config));
    registerHealth(router, health);
    registerReflection(router, services);
  };

  const adapter = rpcHandler({
    routes,
    admit: async (header) => {
      try {
        return await resolveCaller(pool, sources, header);
      } catch (err) {
        const mapped = toConnectError(err);
        if (mapped instanceof ConnectError) return Promise.reject(mapped);
        logger.error({ err: err instanceof Error ? err.message : String(err) }, "authentication failed");
        throw new ConnectError("internal error", Code.Internal);
      }
    },
    unobserved: (method, code, ms) => {
      metrics.count(method, code);
      logger.info({ method, code, ms: Math.round(ms * 100) / 100, before: "handler" }, "rpc");
    },
    interceptors: [
      metrics.interceptor(),
      logCalls(logger),
      mapErrors(),
      authenticate(),
      policy(),
      rateLimit(pool, config.TDB_DEFAULT_RATE_LIMIT),
      capStreams({
        perKey: config.TDB_STREAMS_PER_KEY,
        perTenant: config.TDB_STREAMS_PER_TENANT,
        public: config.TDB_MAX_PUBLIC_STREAMS,
      }),
      decodeErrors(),
      rejectNul(),
    ],
    // Strict JSON: an unknown field or enum name is an error naming it, never ignored.
    jsonOptions: { ignoreUnknownFields: false },
    // Unary bodies are decoded before any interceptor: a binary one that does not decode is
    // the client's mistake (InvalidArgument), not Internal as connect-es answers by default.
    requestGate: (ctx) => {
      reclassifyDecodeErrors(ctx);
      recordFailure(ctx);
    },
    readMaxBytes: config.TDB_MAX_MESSAGE_BYTES,
    writeMaxBytes: config.TDB_MAX_MESSAGE_BYTES,
    compressMinBytes:
      config.TDB_COMPRESS_MIN_BYTES === 0 ? Number.MAX_SAFE_INTEGER : config.TDB_COMPRESS_MIN_BYTES,
    shutdownSignal: shutdown.signal,
    fallback: (req, res) =>
      plainHttp(req, res, metrics, readiness, metricsOnThisPort ? config.TDB_METRICS_TOKEN : null),
  });

  const metricsOnThisPort = config.TDB_METRICS_LISTEN === undefined;
  const corsMiddleware = cors({
    origin: config.TDB_CORS_ORIGINS.length > 0 ? config.TDB_CORS_ORIGINS : false,
    methods: [...connectCors.allowedMethods],
    allowedHeaders,
    exposedHeaders,
    maxAge: 7200,
  });
  const handler: DualHandler = (req, res) => {
    // cors only reads headers and sets them: the same calls exist on HTTP/1.1 and HTTP/2 objects.
    corsMiddleware(req as http.IncomingMessage, res as unknown as http.ServerResponse, () =>
      adapter(req, res),
    );
  };

  const listener = await listen(handler, {
    host: config.TDB_HOST,
    port: config.TDB_PORT,
    cert: config.TDB_TLS_CERT ? readFileSync(config.TDB_TLS_CERT) : undefined,
    key: config.TDB_TLS_KEY ? readFileSync(config.TDB_TLS_KEY) : undefined,
    idleTimeoutMs: config.TDB_IDLE_CONNECTION_TIMEOUT * 1000,
    maxStreamsPerConnection: config.TDB_H2_MAX_STREAMS,
  });
  const metricsServer = metricsOnThisPort
    ? undefined
    : await listenMetrics(config.TDB_METRICS_LISTEN as string, metrics, config.TDB_METRICS_TOKEN);

  return {
    listener,
    readiness,
    async close(opts = {}) {
      readiness.drain();
      const delay = opts.drainDelayMs ?? config.TDB_DRAIN_DELAY * 1000;
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      await listener.close(opts.graceMs ?? config.TDB_SHUTDOWN_GRACE * 1000);
      shutdown.abort();
      await readiness.close();
      await new Promise((r) => (metricsServer ? metricsServer.close(r) : r(undefined)));
    },
  };
}

/** `/metrics` on an address of its own (TDB_METRICS_LISTEN), e.g. one only the scraper reaches. */
async function listenMetrics(
  address: string,
  metrics: Metrics,
  token: string | undefined,
): Promise<http.Server> {
  const i = address.lastIndexOf(":");
  const server = http.createServer((req, res) => {
    if ((req.url ?? "").split("?")[0] === "/metrics" && req.method === "GET")
      serveMetrics(req, res, metrics, token);
    else {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found\n");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(Number(address.slice(i + 1)), address.slice(0, i), () => resolve());
  });
  return server;
}

/** Answers `/metrics`, with `Authorization: Bearer <TDB_METRICS_TOKEN>` when a token is set. */
function serveMetrics(
  req: { headers: http.IncomingHttpHeaders },
  res: Parameters<DualHandler>[1] | http.ServerResponse,
  metrics: Metrics,
  token: string | undefined,
): void {
  if (token !== undefined && !bearerMatches(req.headers.authorization, token)) {
    res.writeHead(401, { "content-type": "text/plain", "www-authenticate": "Bearer" });
    res.end("metrics need 'Authorization: Bearer <TDB_METRICS_TOKEN>'\n");
    return;
  }
  metrics.registry.metrics().then(
    (text) => {
      res.writeHead(200, { "content-type": metrics.registry.contentType });
      res.end(text);
    },
    () => {
      res.writeHead(500);
      res.end();
    },
  );
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer\s+(.+)$/i.exec(header ?? "")?.[1]?.trim() ?? "");
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

/**
 * Plain HTTP beside the RPCs. `/healthz` is liveness: 200 while the process runs.
 * `/readyz` is readiness: 503 while PostgreSQL is unreachable or the server drains.
 * `/metrics` is here unless TDB_METRICS_LISTEN moves it (`token` null = not here).
 */
function plainHttp(
  req: Parameters<DualHandler>[0],
  res: Parameters<DualHandler>[1],
  metrics: Metrics,
  readiness: Readiness,
  token: string | undefined | null,
): void {
  const path = (req.url ?? "").split("?")[0];
  if (req.method === "GET" && path === "/healthz") {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok\n");
    return;
  }
  if (req.method === "GET" && path === "/readyz") {
    res.writeHead(readiness.ready ? 200 : 503, { "content-type": "text/plain", "cache-control": "no-store" });
    res.end(`${readiness.reason}\n`);
    return;
  }
  if (req.method === "GET" && path === "/metrics" && token !== null) {
    serveMetrics(req, res, metrics, token);
    return;
  }
  res.writeHead(404, { "content-type": "text/plain" });
  res.end("not found\n");
}
