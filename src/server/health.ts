import type { ConnectRouter } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.js";

/**
 * Serving state for `grpc.health.v1.Health`. "" is the whole server; each registered
 * service name answers too. Shutdown flips everything to NOT_SERVING so load balancers
 * drain before the listener closes.
 */
export class HealthState {
  private status = Status.SERVING;
  private readonly watchers = new Set<() => void>();
  constructor(private readonly services: string[]) {}

  knows(service: string): boolean {
    return service === "" || this.services.includes(service);
  }
  get current(): Status {
    return this.status;
  }
  set(status: Status): void {
    this.status = status;
    for (const w of this.watchers) w();
  }
  /** Resolves on the next status change or when `signal` aborts. */
  changed(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.watchers.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.watchers.add(done);
      signal.addEventListener("abort", done);
    });
  }
}

/** Registers `grpc.health.v1.Health` (Check, Watch, List): unauthenticated and cheap. */
export function registerHealth(router: ConnectRouter, state: HealthState): void {
  router.service(Health, {
    check(req) {
      if (!state.knows(req.service)) throw new ConnectError(`unknown service ${req.service}`, Code.NotFound);
      return { status: state.current };
    },
    async *watch(req, ctx) {
      let last: Status | undefined;
      while (!ctx.signal.aborted) {
        const now = state.knows(req.service) ? state.current : Status.SERVICE_UNKNOWN;
        if (now !== last) yield { status: now };
        last = now;
        await state.changed(ctx.signal);
      }
    },
    list() {
      const statuses: Record<string, { status: Status }> = { "": { status: state.current } };
      return { statuses };
    },
  });
}
