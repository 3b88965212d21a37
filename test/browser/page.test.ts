import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTdbClient, TimeSeriesService } from "../../clients/ts/src/node.js";
import { buildWeb } from "../../web/build.js";
import { type StaticServer, serveStatic } from "../../web/static-server.js";
import { findTool, requireTool } from "../cli-tools/tools.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

const chromiumPath = findTool("chromium", [process.env.CHROMIUM_PATH ?? "", "/usr/bin/chromium"]);
const hasChromium = requireTool("chromium", chromiumPath);

const hour = 3_600_000_000n;
const t0 = 1_700_000_000_000_000n; // 2023-11-14T22:13:20Z
const knownMs = Date.UTC(2023, 10, 14, 12, 0, 0);

describe.skipIf(!hasChromium)("browser page (connect-web, headless Chromium)", () => {
  let dir: string;
  let allowed: StaticServer;
  let refused: StaticServer;
  let srv: TestServer;
  let context: BrowserContext;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "tdb-web-"));
    const site = await buildWeb(path.join(dir, "site"));
    // Two origins serving the same page: only the first is in TDB_CORS_ORIGINS.
    allowed = await serveStatic(site);
    refused = await serveStatic(site);
    srv = await startTestServer({ TDB_CORS_ORIGINS: allowed.origin });

    const tdb = createTdbClient(TimeSeriesService, { baseUrl: srv.url, apiKey: srv.adminKey });
    await tdb.uploadBatch({
      header: { knownTime: timestampFromMs(knownMs), createMissingSeries: true, workflowId: "browser" },
      chunks: [
        {
          series: { name: "browser_temp", labels: { site: "a" } },
          validTimes: [t0, t0 + hour, t0 + 2n * hour],
          values: [11.5, 12.25, -3],
          annotations: ["", "checked", ""],
        },
        { series: { name: "browser_other" }, validTimes: [t0], values: [99] },
      ],
    });
    await tdb.createSeries({ name: "browser_temp", labels: { site: "b" }, unit: "degC" });

    context = await chromium.launchPersistentContext(path.join(dir, "profile"), {
      executablePath: chromiumPath,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  });

  afterAll(async () => {
    await context?.close();
    await allowed?.close();
    await refused?.close();
    await srv?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function open(origin: string, key: string): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`${origin}/?server=${encodeURIComponent(srv.url)}`);
    await page.fill("#api-key", key);
    return page;
  }

  /** Clicks a button and waits until the page reports the outcome in #status. */
  async function clickAndSettle(page: Page, button: string): Promise<string> {
    await page.evaluate(() => {
      const status = document.getElementById("status");
      if (status) status.textContent = "";
    });
    await page.click(button);
    const status = page.locator("#status");
    await page.waitForFunction(() => {
      const text = document.getElementById("status")?.textContent ?? "";
      return text !== "" && !text.endsWith("…");
    });
    return (await status.textContent()) ?? "";
  }

  /** A raw fetch of ListSeries from the page's origin: "status N", or the error's name. */
  function listFrom(page: Page): Promise<string> {
    return page.evaluate(
      async ([url, key]) => {
        try {
          const res = await fetch(`${url}/tdb.v1.TimeSeriesService/ListSeries`, {
            method: "POST",
            headers: { "content-type": "application/json", "x-api-key": key },
            body: "{}",
          });
          return `status ${res.status}`;
        } catch (e) {
          return (e as Error).name;
        }
      },
      [srv.url, srv.adminKey] as const,
    );
  }

  it("lists the tenant's series and shows the values of the chosen one", async () => {
    const page = await open(allowed.origin, srv.adminKey);
    expect(await clickAndSettle(page, "#list-series")).toBe("3 series");
    const options = await page.locator("#series option").allTextContents();
    expect(options).toEqual(["browser_other", 'browser_temp{site="a"}', 'browser_temp{site="b"} [degC]']);
    // Rate-limit headers reach the page only because CORS exposes them.
    expect(await page.locator("#quota").textContent()).toMatch(/^\d+ of \d+ requests left this minute$/);

    await page.selectOption("#series", { label: 'browser_temp{site="a"}' });
    expect(await clickAndSettle(page, "#read-values")).toBe("3 values");
    const rows = await page
      .locator("#values tbody tr")
      .evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll("td"), (td) => td.textContent)));
    const known = "2023-11-14T12:00:00.000000Z";
    expect(rows).toEqual([
      ["2023-11-14T22:13:20.000000Z", "11.5", known, ""],
      ["2023-11-14T23:13:20.000000Z", "12.25", known, "checked"],
      ["2023-11-15T00:13:20.000000Z", "-3", known, ""],
    ]);
    await page.close();
  });

  it("filters by name and shows a wrong key as Unauthenticated", async () => {
    const page = await open(allowed.origin, srv.adminKey);
    await page.fill("#name-filter", "browser_other");
    expect(await clickAndSettle(page, "#list-series")).toBe("1 series");

    await page.fill("#api-key", "tdbk_not_a_real_key");
    // The error response itself carries CORS headers, so the page can read its code.
    expect(await clickAndSettle(page, "#list-series")).toMatch(/^Unauthenticated: /);
    await page.close();
  });

  it("is refused by the browser when served from an origin not in TDB_CORS_ORIGINS", async () => {
    const page = await open(refused.origin, srv.adminKey);
    const consoleErrors: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") consoleErrors.push(m.text());
    });
    const status = await clickAndSettle(page, "#list-series");
    expect(status).toMatch(/origin not allowed\?\)$/);
    expect(await page.locator("#series option").count()).toBe(0);
    expect(consoleErrors.join("\n")).toMatch(/blocked by CORS policy/);

    // The same request succeeds from the allowed origin and fails with a TypeError from this one.
    expect(await listFrom(page)).toBe("TypeError");
    const ok = await open(allowed.origin, srv.adminKey);
    expect(await listFrom(ok)).toBe("status 200");
    await ok.close();
    await page.close();
  });
});
