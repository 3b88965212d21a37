import { readFileSync } from "node:fs";
import type http from "node:http";
import type { DescService } from "@bufbuild/protobuf";
import { type ConnectRouter, cors as connectCors } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import cors from "cors";
import type pg from "pg";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { KeyAdminService } from "../../gen/tdb/v1/key_admin_service_pb.js";
import { TimeSeriesService } from "../../gen/tdb/v1/time_series_service_pb.js";
import { authenticate } from "../auth/authenticate.js";
import { credentialSources } from "../auth/credential-sources.js";
import { policy } from "../auth/policy.js";
import { rateLimit } from "../auth/rate-limit.js";
import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import { keyAdminService } from "../services/key-admin-service.js";
import { timeSeriesService } from "../services/time-series-service.js";
import { mapErrors } from "./error-interceptor.js";
import { HealthState, registerHealth } from "./health.js";
import { type DualHandler, type Listener, listen } from "./listener.js";
import { logCalls } from "./log-interceptor.js";
import { Metrics } from "./metrics.js";
import { registerReflection } from "./reflection.js";

/** A running TDB server. */
export interface TdbServer {
  listener: Listener;
  /** Reports NOT_SERVING, drains open calls and streams, closes the port. */
  close(): Promise<void>;
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
 * health on one port, `/healthz` and `/metrics` as plain HTTP, CORS for configured origins.
 * Interceptors run outermost first: metrics → log → errors → authenticate → policy → rate limit.
 */
export async function startServer(config: Config, pool: pg.Pool, logger: Logger): Promise<TdbServer> {
  const metrics = new Metrics();
  const shutdown = new AbortController();
  const services: DescService[] = [TimeSeriesService, KeyAdminService, Health];
  const health = new HealthState(services.map((s) => s.typeName));

  const routes = (router: ConnectRouter) => {
    router.service(
      TimeSeriesService,
      timeSeriesService(pool, { maxUploadPoints: config.TDB_MAX_UPLOAD_POINTS }),
    );
    router.service(KeyAdminService, keyAdminService(pool, config));
    registerHealth(router, health);
    registerReflection(router, services);
  };

  const adapter = connectNodeAdapter({
    routes,
    interceptors: [
      metrics.interceptor(),
      logCalls(logger),
      mapErrors(),
      authenticate(pool, credentialSources(config, pool)),
      policy(),
      rateLimit(pool, config.TDB_DEFAULT_RATE_LIMIT),
    ],
    readMaxBytes: config.TDB_MAX_MESSAGE_BYTES,
    writeMaxBytes: config.TDB_MAX_MESSAGE_BYTES,
    compressMinBytes:
      config.TDB_COMPRESS_MIN_BYTES === 0 ? Number.MAX_SAFE_INTEGER : config.TDB_COMPRESS_MIN_BYTES,
    shutdownSignal: shutdown.signal,
    fallback: (req, res) => plainHttp(req, res, metrics, health),
  });

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
  });

  return {
    listener,
    async close() {
      health.set(HealthCheckResponse_ServingStatus.NOT_SERVING);
      await listener.close(10_000);
      shutdown.abort();
    },
  };
}

function plainHttp(
  req: Parameters<DualHandler>[0],
  res: Parameters<DualHandler>[1],
  metrics: Metrics,
  health: HealthState,
): void {
  const path = (req.url ?? "").split("?")[0];
  if (req.method === "GET" && path === "/healthz") {
    const ok = health.current === HealthCheckResponse_ServingStatus.SERVING;
    res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" });
    res.end(ok ? "ok\n" : "shutting down\n");
    return;
  }
  if (req.method === "GET" && path === "/metrics") {
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
    return;
  }
  res.writeHead(404, { "content-type": "text/plain" });
  res.end("not found\n");
}
