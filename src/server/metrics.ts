import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";
import { onCallEnd } from "./call-end.js";

/** Prometheus metrics of one server: process defaults plus RPC counts and durations. */
export class Metrics {
  readonly registry = new Registry();
  private readonly calls = new Counter({
    name: "tdb_rpc_total",
    help: "RPCs handled, by method and code",
    labelNames: ["method", "code"] as const,
    registers: [this.registry],
  });
  private readonly seconds = new Histogram({
    name: "tdb_rpc_duration_seconds",
    help: "RPC duration until the response (or the end of a response stream)",
    labelNames: ["method"] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Counts a call that ended before the interceptors saw it (e.g. its body did not decode). */
  count(method: string, code: string): void {
    this.calls.inc({ method, code: code === "ok" ? "OK" : code });
  }

  /** Counts every RPC by method and final code. */
  interceptor(): Interceptor {
    return (next) => async (req) => {
      const method = `${req.service.typeName}/${req.method.name}`;
      const end = this.seconds.startTimer({ method });
      return onCallEnd(
        () => next(req),
        (err) => {
          end();
          this.calls.inc({
            method,
            code: err === undefined ? "OK" : (Code[ConnectError.from(err).code] ?? "Unknown"),
          });
          return err;
        },
        req.signal,
      );
    };
  }
}
