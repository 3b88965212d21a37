/**
 * The TDB browser page: lists a tenant's series and shows the values of one, calling the server
 * with connect-web (Connect protocol over fetch, so HTTP/1.1 and CORS). Browsers cannot
 * client-stream, but ReadValues is server streaming, which fetch supports.
 */
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { createTdbClient, ReadMode, type Series, TimeSeriesService } from "../../clients/ts/src/browser.js";

import { formatMicros, seriesLabel } from "./format.js";

const modes: Record<string, ReadMode> = {
  latest: ReadMode.LATEST,
  "all-vintages": ReadMode.ALL_VINTAGES,
  corrections: ReadMode.CORRECTIONS,
};

function element<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page is missing #${id}`);
  return el as T;
}

const serverUrl = element<HTMLInputElement>("server-url");
const apiKey = element<HTMLInputElement>("api-key");
const nameFilter = element<HTMLInputElement>("name-filter");
const seriesSelect = element<HTMLSelectElement>("series");
const modeSelect = element<HTMLSelectElement>("mode");
const readButton = element<HTMLButtonElement>("read-values");
const status = element<HTMLParagraphElement>("status");
const quota = element<HTMLParagraphElement>("quota");
const valuesBody = element<HTMLTableElement>("values").tBodies[0] as HTMLTableSectionElement;

// ?server=… pre-fills the URL, handy for links from docs and for tests.
const fromQuery = new URLSearchParams(location.search).get("server");
if (fromQuery) serverUrl.value = fromQuery;

/** A client with the typed key (sent as `x-api-key`, allowed by the server's CORS configuration). */
function client(): Client<typeof TimeSeriesService> {
  return createTdbClient(TimeSeriesService, {
    baseUrl: serverUrl.value.replace(/\/+$/, ""),
    apiKey: apiKey.value.trim(),
  });
}

function show(message: string, isError = false): void {
  status.textContent = message;
  status.classList.toggle("error", isError);
}

/** Shows the key's rate-limit budget; readable because the server's CORS exposes these headers. */
function showQuota(header: Headers): void {
  const limit = header.get("x-ratelimit-limit");
  const remaining = header.get("x-ratelimit-remaining");
  if (limit && remaining) quota.textContent = `${remaining} of ${limit} requests left this minute`;
}

function showError(err: unknown): void {
  const e = ConnectError.from(err);
  // A CORS refusal or an unreachable server both surface as a failed fetch, without details.
  const hint =
    e.code === Code.Unknown || e.code === Code.Unavailable ? " (server down, or origin not allowed?)" : "";
  show(`${Code[e.code]}: ${e.rawMessage}${hint}`, true);
}

async function listSeries(): Promise<void> {
  show("listing series…");
  const tdb = client();
  const all: Series[] = [];
  let pageToken = "";
  do {
    const res = await tdb.listSeries(
      { name: nameFilter.value.trim(), pageSize: 1000, pageToken },
      { onHeader: showQuota },
    );
    all.push(...res.series);
    pageToken = res.nextPageToken;
  } while (pageToken);
  // The server orders by name only; sorting by the full label keeps same-named series stable.
  const labelled = all.map((s) => ({ id: s.seriesId, label: seriesLabel(s) }));
  labelled.sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  seriesSelect.replaceChildren(
    ...labelled.map(({ id, label }) => {
      const option = document.createElement("option");
      option.value = id;
      option.textContent = label;
      return option;
    }),
  );
  readButton.disabled = all.length === 0;
  show(`${all.length} series`);
}

async function readValues(): Promise<void> {
  const seriesId = seriesSelect.value;
  if (!seriesId) return;
  show("reading values…");
  valuesBody.replaceChildren();
  let count = 0;
  const stream = client().readValues(
    { seriesIds: [seriesId], mode: modes[modeSelect.value] },
    { onHeader: showQuota },
  );
  for await (const res of stream) {
    for (const chunk of res.chunks) {
      const rows = chunk.validTimes.map((validTime, i) => {
        const tr = document.createElement("tr");
        const cells = [
          formatMicros(validTime),
          chunk.nulls[i] ? "null" : String(chunk.values[i]),
          chunk.knownTimes[i] === undefined ? "" : formatMicros(chunk.knownTimes[i]),
          chunk.annotations[i] ?? "",
        ];
        for (const [j, text] of cells.entries()) {
          const td = document.createElement("td");
          td.textContent = text;
          if (j === 1) td.className = "value";
          tr.append(td);
        }
        return tr;
      });
      valuesBody.append(...rows);
      count += rows.length;
    }
  }
  show(`${count} values`);
}

element<HTMLFormElement>("connect-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  listSeries().catch(showError);
});
element<HTMLFormElement>("read-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  readValues().catch(showError);
});
