import { Code, ConnectError } from "@connectrpc/connect";

/**
 * A counting semaphore whose waits are bounded: `acquire` resolves with a release function
 * or, after `waitMs`, fails with `ResourceExhausted` and the message given, so a caller
 * never queues without end. Waiters are served first come, first served.
 */
export class Budget {
  private used = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(
    readonly size: number,
    private readonly refusal: string,
  ) {}

  /** Slots in use now. */
  get inUse(): number {
    return this.used;
  }

  /** Takes a slot, waiting at most `waitMs` (or until `signal` aborts). */
  async acquire(waitMs: number, signal?: AbortSignal): Promise<() => void> {
    if (this.used < this.size) return this.take();
    await new Promise<void>((resolve, reject) => {
      const wake = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      const leave = (err: ConnectError) => {
        const i = this.waiters.indexOf(wake);
        if (i >= 0) this.waiters.splice(i, 1);
        signal?.removeEventListener("abort", onAbort);
        reject(err);
      };
      const onAbort = () => {
        clearTimeout(timer);
        leave(new ConnectError("the client cancelled the call", Code.Canceled));
      };
      const timer = setTimeout(() => leave(new ConnectError(this.refusal, Code.ResourceExhausted)), waitMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(wake);
    });
    return this.take();
  }

  private take(): () => void {
    this.used++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used--;
      // Hand the slot straight on; the woken waiter takes it before anyone new can.
      this.waiters.shift()?.();
    };
  }
}
