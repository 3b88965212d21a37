/**
 * `npm run web`: builds the browser page and serves it on TDB_WEB_PORT (default 5173).
 * Start the server with TDB_CORS_ORIGINS set to the printed origin.
 */
import { buildWeb } from "./build.js";
import { serveStatic } from "./static-server.js";

const port = Number(process.env.TDB_WEB_PORT ?? 5173);
const dir = await buildWeb();
const { origin } = await serveStatic(dir, port);
console.log(`TDB browser page: ${origin}/`);
console.log(`start the server with: TDB_CORS_ORIGINS=${origin} npm start`);
