import pino from "pino";

/** Structured JSON logger (one line per event). Secrets never reach it: keys are logged by id only. */
export type Logger = pino.Logger;

/** Creates the process logger at the configured level, writing JSON lines to stdout. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: undefined,
    // Belt and braces: should a credential header ever be passed in, it is masked.
    redact: { paths: ["*.x-api-key", "*.authorization", "raw_key", "rawKey"], censor: "[redacted]" },
  });
}
