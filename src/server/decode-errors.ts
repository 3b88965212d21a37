import type { DescEnum, DescField, DescMessage } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type Interceptor } from "@connectrpc/connect";

/**
 * A request that does not decode is the client's mistake: InvalidArgument naming the field.
 * connect-es 2.x gets two things wrong here:
 *
 * - undecodable protobuf binary answers `Internal "parse binary: …"`: its serialization is
 *   shared with clients, where an undecodable *response* is an internal error;
 * - protobuf-es's JSON errors name a message or enum type, not the field: `cannot decode enum
 *   tdb.v1.ReadMode from JSON: "corrections"`, `cannot decode message tdb.v1.RunHeader from
 *   JSON: key "knwonTime" is unknown`. Where the type occurs once in the request, the message
 *   is rewritten to its path: `mode: unknown value "corrections" of tdb.v1.ReadMode, expected
 *   one of …`, `header.knwonTime: is not a field of tdb.v1.RunHeader`.
 *
 * Connect has no option for either, so the errors are rewritten where they pass:
 *
 * - request streams are decoded while the service reads them, inside the interceptors:
 *   `decodeErrors()` rewrites there, so logs and metrics see the final error;
 * - unary requests are decoded before any interceptor runs: `reclassifyDecodeErrors`, run as
 *   the router's `requestGate`, listens on the call's abort signal, which Connect aborts with
 *   the error just before it writes it out (in all three protocols), and rewrites the error in
 *   place. src/server/decode-errors.test.ts pins that behaviour of connect-es.
 */

/** Interceptor: rewrites decode errors of request-stream messages (see the module comment). */
export function decodeErrors(): Interceptor {
  return (next) => async (req) => {
    if (!req.stream) return next(req);
    const messages = req.message;
    const input = req.method.input;
    // A server stream has one request: only a client stream's messages need numbering.
    const numbered = req.method.methodKind !== "server_streaming";
    return next({
      ...req,
      message: (async function* () {
        let i = 0;
        try {
          for await (const m of messages) {
            yield m;
            i++;
          }
        } catch (err) {
          const message = decodeErrorMessage(err, input, numbered ? ` (request message ${i})` : "");
          if (message === undefined) throw err;
          throw new ConnectError(message, Code.InvalidArgument, undefined, undefined, err);
        }
      })(),
    });
  };
}

/**
 * For the router's `requestGate`: rewrites the decode error of a unary request (see the
 * module comment). It only adds a listener; compose it with any other gate.
 */
export function reclassifyDecodeErrors(ctx: HandlerContext): void {
  const input = ctx.method.input;
  ctx.signal.addEventListener(
    "abort",
    () => {
      const reason: unknown = ctx.signal.reason;
      const message = decodeErrorMessage(reason, input, "");
      if (message === undefined) return;
      // Connect serializes this very object next: it must change in place.
      Object.assign(reason as ConnectError, {
        code: Code.InvalidArgument,
        rawMessage: message,
        message: `[invalid_argument] ${message}`,
      });
    },
    { once: true },
  );
}

/**
 * The InvalidArgument message for a request message of type `input` that did not decode;
 * undefined when `err` is not such an error (or cannot be improved). `where` is appended to
 * the message's subject, e.g. " (request message 3)".
 */
export function decodeErrorMessage(err: unknown, input: DescMessage, where: string): string | undefined {
  if (!(err instanceof ConnectError)) return undefined;
  const raw = err.rawMessage;
  if (err.code === Code.Internal) {
    if (!raw.startsWith(binaryPrefix)) return undefined;
    return `cannot decode message ${input.typeName} from binary${where}: ${raw.slice(binaryPrefix.length)}`;
  }
  if (err.code !== Code.InvalidArgument) return undefined;
  let m = /^cannot decode enum (\S+) from JSON: (.*)$/s.exec(raw);
  if (m) {
    const [, typeName = "", value] = m;
    const found = only(fieldsOf(input, (f) => enumOf(f)?.typeName === typeName));
    if (!found) return undefined;
    const names = enumOf(found.field)?.values.map((v) => v.name) ?? [];
    return `${found.path}${where}: unknown value ${value} of ${typeName}, expected one of ${names.join(", ")}`;
  }
  m = /^cannot decode message (\S+) from JSON: key "(.*)" is unknown$/s.exec(raw);
  if (m) {
    const [, typeName = "", key] = m;
    const path = pathOfMessage(input, typeName);
    if (path === undefined) return undefined;
    return `${join(path, key ?? "")}${where}: is not a field of ${typeName}`;
  }
  m = /^cannot decode message google\.protobuf\.Timestamp from JSON: (.*)$/s.exec(raw);
  if (m) {
    // protobuf-es names the type, not the field; name the Timestamp fields it can be.
    const paths = fieldsOf(input, (f) => messageOf(f)?.typeName === "google.protobuf.Timestamp").map(
      (f) => f.path,
    );
    if (paths.length === 0) return undefined;
    const subject = paths.length === 1 ? paths[0] : `one of ${paths.join(", ")}`;
    return `${subject}${where}: not a timestamp (${m[1]}); expected an RFC 3339 time such as "2026-01-01T00:00:00Z"`;
  }
  m = /^cannot decode field (\S+)\.([^.\s]+) from JSON: (.*)$/s.exec(raw);
  if (m) {
    const [, typeName = "", name = "", reason] = m;
    const path = pathOfMessage(input, typeName);
    if (path === undefined) return undefined;
    const hint = microsecondFields.has(name)
      ? `; times here are integer microseconds since the Unix epoch (JSON strings), e.g. "1767225600000000" for 2026-01-01T00:00:00Z`
      : "";
    return `${join(path, name)}${where}: ${reason}${hint}`;
  }
  return undefined;
}

/** int64 fields that hold times in microseconds: a decode error there says so. */
const microsecondFields = new Set([
  "valid_times",
  "valid_time_ends",
  "known_times",
  "change_times",
  "valid_time",
]);

const binaryPrefix = "parse binary: ";

/** Where in `input` a message of `typeName` sits: "" for the input itself; undefined when not exactly once. */
function pathOfMessage(input: DescMessage, typeName: string): string | undefined {
  if (input.typeName === typeName) return "";
  return only(fieldsOf(input, (f) => messageOf(f)?.typeName === typeName))?.path;
}

function join(path: string, name: string): string {
  return path === "" ? name : `${path}.${name}`;
}

function only<T>(list: T[]): T | undefined {
  return list.length === 1 ? list[0] : undefined;
}

/**
 * The fields anywhere in `root` that `match`, with their paths (proto names; `[]` for the
 * elements of a list or the values of a map). Well-known types are not entered (their JSON
 * is special) and recursion stops at a type already on the path.
 */
function fieldsOf(root: DescMessage, match: (f: DescField) => boolean): { path: string; field: DescField }[] {
  const found: { path: string; field: DescField }[] = [];
  const walk = (desc: DescMessage, prefix: string, seen: ReadonlySet<DescMessage>) => {
    for (const f of desc.fields) {
      const path = prefix + f.name + (f.fieldKind === "list" || f.fieldKind === "map" ? "[]" : "");
      if (match(f)) found.push({ path, field: f });
      const sub = messageOf(f);
      if (sub && !seen.has(sub) && !sub.typeName.startsWith("google.protobuf.")) {
        walk(sub, `${path}.`, new Set([...seen, sub]));
      }
    }
  };
  walk(root, "", new Set([root]));
  return found;
}

function messageOf(f: DescField): DescMessage | undefined {
  if (f.fieldKind === "message") return f.message;
  if (f.fieldKind === "list" && f.listKind === "message") return f.message;
  if (f.fieldKind === "map" && f.mapKind === "message") return f.message;
  return undefined;
}

function enumOf(f: DescField): DescEnum | undefined {
  if (f.fieldKind === "enum") return f.enum;
  if (f.fieldKind === "list" && f.listKind === "enum") return f.enum;
  if (f.fieldKind === "map" && f.mapKind === "enum") return f.enum;
  return undefined;
}
