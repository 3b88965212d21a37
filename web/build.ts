import { copyFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const webDir = path.dirname(fileURLToPath(import.meta.url));

/** Where `npm run web:build` writes the page (git-ignored). */
export const defaultOutDir = path.join(webDir, "dist");

/**
 * Bundles the browser page into `outDir`: index.html, style.css and app.js (connect-web,
 * protobuf-es and the generated TimeSeriesService, one ES module).
 */
export async function buildWeb(outDir: string = defaultOutDir): Promise<string> {
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [path.join(webDir, "src/main.ts")],
    outfile: path.join(outDir, "app.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    sourcemap: true,
    minify: true,
    logLevel: "warning",
  });
  for (const file of ["index.html", "style.css"]) {
    await copyFile(path.join(webDir, file), path.join(outDir, file));
  }
  return outDir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = await buildWeb(process.argv[2] ? path.resolve(process.argv[2]) : undefined);
  console.log(`built ${path.relative(process.cwd(), out) || "."}/`);
}
