import type { StreamResponse, UnaryResponse } from "@connectrpc/connect";

/**
 * Runs `next` and calls `end` once the call is over: when a unary response (or an error)
 * comes back, or — for server streams, which finish long after `next()` resolves — when the
 * response stream ends or fails. `end(err)` returns the error to throw in place of `err`, so
 * an interceptor can observe (log, count) and translate errors in one place.
 */
export async function onCallEnd<R extends UnaryResponse | StreamResponse>(
  next: () => Promise<R>,
  end: (err: unknown) => unknown,
): Promise<R> {
  let res: R;
  try {
    res = await next();
  } catch (err) {
    throw end(err);
  }
  if (!res.stream) {
    end(undefined);
    return res;
  }
  const inner = res.message;
  return {
    ...res,
    message: (async function* () {
      try {
        yield* inner;
      } catch (err) {
        throw end(err);
      }
      end(undefined);
    })(),
  };
}
