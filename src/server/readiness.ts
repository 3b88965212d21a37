import pg from "pg";
import { HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.js";
import type { Logger } from "../logger.js";
import type { HealthState } from "./health.js";

/**
 * Readiness: whether this process should be sent traffic. Not ready while PostgreSQL does
 * not answer (probed every `intervalMs` on a connection of its own, so a busy pool does
 * not look like a dead database) and from the moment draining starts. It drives gRPC
 * health (`SERVING` / `NOT_SERVING`) and `/readyz`; `/healthz` stays a liveness check.
 */
export class Readiness {
  private databaseUp = true;
  private draining = false;
  private readonly probePool: pg.Pool;
  private readonly timer: NodeJS.Timeout;
  private probing = false;

  constructor(
    pool: pg.Pool,
    private readonly health: HealthState,
    private readonly logger: Logger,
    intervalMs = 1000,
  ) {
    this.probePool = new pg.Pool({
      ...pool.options,
      max: 1,
      idleTimeoutMillis: 0,
      connectionTimeoutMillis: Math.max(500, intervalMs * 2),
    });
    this.probePool.on("error", () => {});
    this.timer = setInterval(() => void this.probe(), intervalMs);
    this.timer.unref();
  }

  /** True when the process should get traffic. */
  get ready(): boolean {
    return this.databaseUp && !this.draining;
  }

  /** Why not ready, in words for `/readyz`. */
  get reason(): string {
    if (this.draining) return "draining: the server is shutting down";
    if (!this.databaseUp) return "PostgreSQL is unreachable";
    return "ready";
  }

  /** Checks PostgreSQL now (also called after a call met a lost connection). */
  async probe(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      await this.probePool.query("SELECT 1");
      this.setDatabase(true);
    } catch (err) {
      this.setDatabase(false, err);
    } finally {
      this.probing = false;
    }
  }

  /** Reports not ready from now on (SIGTERM). */
  drain(): void {
    this.draining = true;
    this.publish();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.probePool.end().catch(() => {});
  }

  private setDatabase(up: boolean, err?: unknown): void {
    if (up === this.databaseUp) return;
    this.databaseUp = up;
    if (up) this.logger.info("PostgreSQL answers again: ready");
    else
      this.logger.warn(
        { err: err instanceof Error ? err.message : String(err) },
        "PostgreSQL unreachable: not ready",
      );
    this.publish();
  }

  private publish(): void {
    this.health.set(this.ready ? Status.SERVING : Status.NOT_SERVING);
  }
}
