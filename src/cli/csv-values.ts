/**
 * Cell formats of `tdb import` CSV files: times, numbers and labels. Each parser returns the
 * value or throws a plain Error whose message says what is wrong; the caller adds the line
 * and column.
 */

const rfc3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
const integerUs = /^-?\d{1,19}$/;

/**
 * A time as microseconds since the Unix epoch: RFC 3339 with an offset
 * (`2026-01-02T03:04:05.123456+01:00`, digits past the microsecond are truncated) or an
 * integer number of microseconds. Range checks are the ingest path's.
 */
export function parseTimeUs(text: string): bigint {
  const t = text.trim();
  if (integerUs.test(t)) return BigInt(t);
  const m = rfc3339.exec(t);
  if (!m) {
    throw new Error(
      `expected RFC 3339 with an offset (2026-01-02T03:04:05.123456Z) or integer microseconds since the epoch, got ${shown(text)}`,
    );
  }
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, 0);
  if (
    date.getUTCFullYear() !== y ||
    date.getUTCMonth() !== mo - 1 ||
    date.getUTCDate() !== d ||
    h > 23 ||
    mi > 59 ||
    s > 59
  ) {
    throw new Error(`not a valid date and time: ${shown(text)}`);
  }
  const fraction = BigInt((m[7] ?? "").padEnd(6, "0").slice(0, 6));
  let offsetUs = 0n;
  if (m[8] !== undefined) {
    const oh = Number(m[9]);
    const om = Number(m[10]);
    if (oh > 23 || om > 59) throw new Error(`not a valid offset: ${shown(text)}`);
    offsetUs = BigInt((oh * 60 + om) * 60) * 1_000_000n * (m[8] === "-" ? -1n : 1n);
  }
  // Local time = UTC + offset.
  return BigInt(date.getTime()) * 1000n + fraction - offsetUs;
}

const decimal = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const nonFinite = /^([+-]?)(nan|inf|infinity)$/i;

/**
 * A value cell: null when empty, else a decimal number. NaN and ±Inf spellings are parsed so
 * that the ingest path refuses them with its own message, as it does for uploads.
 */
export function parseValue(text: string): number | null {
  const t = text.trim();
  if (t === "") return null;
  if (decimal.test(t)) return Number(t);
  const nf = nonFinite.exec(t);
  if (nf) {
    if ((nf[2] as string).toLowerCase() === "nan") return Number.NaN;
    return nf[1] === "-" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  throw new Error(`not a number: ${shown(text)}`);
}

/**
 * A labels cell: `key=value` pairs separated by `;` (`site=a;unit=kW`, spaces around keys
 * and values ignored), or a JSON object of strings (`{"site":"a;b"}`) for values that hold
 * `;` or surrounding spaces. Empty = no labels. Key rules are the ingest path's.
 */
export function parseLabels(text: string): Record<string, string> {
  const t = text.trim();
  const labels: Record<string, string> = {};
  if (t === "") return labels;
  if (t.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(t);
    } catch {
      throw new Error(`not a JSON object: ${shown(text)}`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new Error(`not a JSON object: ${shown(text)}`);
    }
    for (const [k, v] of Object.entries(parsed)) {
      if (typeof v !== "string") throw new Error(`label ${JSON.stringify(k)} must be a string`);
      labels[k] = v;
    }
    return labels;
  }
  for (const pair of t.split(";")) {
    if (pair.trim() === "") continue;
    const eq = pair.indexOf("=");
    if (eq < 0) {
      throw new Error(`expected key=value pairs separated by ";" (or a JSON object), got ${shown(pair)}`);
    }
    const key = pair.slice(0, eq).trim();
    if (Object.hasOwn(labels, key)) throw new Error(`label ${JSON.stringify(key)} is given twice`);
    labels[key] = pair.slice(eq + 1).trim();
  }
  return labels;
}

/** A cell's text for a message, quoted and cut short. */
function shown(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}
