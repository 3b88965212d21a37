import type { Series } from "../../clients/ts/src/browser.js";

/** Microseconds since the Unix epoch as an ISO-8601 UTC time, keeping all six digits. */
export function formatMicros(us: bigint): string {
  let ms = us / 1000n;
  let rest = us % 1000n;
  if (rest < 0n) {
    ms -= 1n;
    rest += 1000n;
  }
  const iso = new Date(Number(ms)).toISOString(); // …ss.mmmZ
  return `${iso.slice(0, -1)}${rest.toString().padStart(3, "0")}Z`;
}

/** `name{k="v",…} [unit]`, the way the server keys series in UploadResponse.series_ids. */
export function seriesLabel(s: Series): string {
  const labels = Object.entries(s.labels)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}="${v}"`)
    .join(",");
  return `${s.name}${labels ? `{${labels}}` : ""}${s.unit ? ` [${s.unit}]` : ""}`;
}
