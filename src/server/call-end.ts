import { Code, ConnectError, type StreamResponse, type UnaryResponse } from "@connectrpc/connect";

/**
 * Runs `next` and calls `end` once the call is over: when a unary response (or an error)
 * comes back, or — for server streams, which finish long after `next()` resolves — when the
 * response stream ends or fails. `end(err)` returns the error to throw in place of `err`, so
 * an interceptor can observe (log, count) and translate errors in one place.
 */
export async function onCallEnd<R extends UnaryResponse | StreamResponse>(
  next: () => Promise<R>,
  endOnce: (err: unknown) => unknown,
  signal?: AbortSignal,
): Promise<R> {
  let ended = false;
  const end = (err: unknown) => {
    if (ended) return err;
    ended = true;
    return endOnce(err);
  };
  // A client that goes away mid-stream leaves the response generator suspended at a yield
  // that never resumes: the call's signal is then the only sign that it is over.
  signal?.addEventListener(
    "abort",
    () => {
      if (!ended) end(new ConnectError("the client cancelled the call", Code.Canceled));
    },
    { once: true },
  );
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
