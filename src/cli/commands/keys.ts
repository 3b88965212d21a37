import type { Command } from "commander";
import * as settings from "../../auth/key-settings.js";
import { NotFoundError } from "../../errors.js";
import * as keys from "../../store/keys-store.js";
import { withTenant } from "../../store/tenant-tx.js";
import * as users from "../../store/users-store.js";
import { integer, type TenantOptions, withTenantOptions } from "../common-options.js";
import { resolveTenant, withDatabase } from "../database.js";
import { CliError, exitCodes } from "../exit-codes.js";
import { emit, issuedLines, keyJson, keyLines, saveKeyWarning } from "../output.js";
import { userRefArg } from "./users.js";

interface CreateOptions extends TenantOptions {
  name: string;
  role: string;
  expiresInDays: number;
  rateLimit: number;
  allow: string[];
  user?: string;
}

/** `tdb keys create|list|revoke|rotate`. */
export function keysCommand(program: Command): void {
  const cmd = program.command("keys").description("manage the API keys of a tenant");

  withTenantOptions(
    cmd
      .command("create")
      .description("create a key; prints the raw key once")
      .requiredOption("--name <name>", "name, 1–100 characters")
      .option("--role <role>", "read, readwrite or admin", "admin")
      .option("--expires-in-days <days>", "days until it expires (0 = never)", integer, 0)
      .option("--rate-limit <per-minute>", "requests per minute (0 = the server default)", integer, 0)
      .option(
        "--allow <method...>",
        'restrict it to these methods, e.g. "tdb.v1.TimeSeriesService/ReadValues"',
        (v: string, prev: string[]) => [...prev, v],
        [] as string[],
      )
      .option("--user <user>", "the user (email or id) it belongs to"),
  ).action(async (opts: CreateOptions) => {
    const input = {
      name: settings.keyName("name", opts.name),
      role: settings.roleNamed("role", opts.role),
      expiresInDays: settings.expiresInDays("expires_in_days", opts.expiresInDays),
      rateLimit: settings.rateLimit("rate_limit", opts.rateLimit),
      allowedMethods: settings.allowedMethods("allowed_methods", opts.allow),
    };
    const userRef = opts.user === undefined ? undefined : userRefArg(opts.user);
    await withDatabase(opts, async (pool) => {
      const tenant = await resolveTenant(pool, opts.tenant);
      const issued = await withTenant(pool, tenant.id, async (c) => {
        const user = userRef === undefined ? undefined : await users.lockUser(c, userRef);
        if (userRef !== undefined && !user)
          throw new NotFoundError(`${users.describeUser(userRef)} not found`);
        return keys.createKey(c, tenant.id, { ...input, userId: user?.id });
      });
      emit(
        opts.json === true,
        { key: keyJson(issued.key), rawKey: issued.rawKey, warning: saveKeyWarning },
        () => issuedLines(issued.key, issued.rawKey),
      );
    });
  });

  withTenantOptions(
    cmd.command("list").description("list keys (active, expired and revoked), oldest first; never raw keys"),
  ).action(async (opts: TenantOptions) => {
    await withDatabase(opts, async (pool) => {
      const tenant = await resolveTenant(pool, opts.tenant);
      const rows = await withTenant(pool, tenant.id, (c) => keys.listKeys(c, { limit: 1_000_000 }));
      emit(opts.json === true, { keys: rows.map(keyJson) }, () =>
        rows.length > 0 ? rows.flatMap(keyLines) : ["no keys"],
      );
    });
  });

  withTenantOptions(
    cmd.command("revoke").description("revoke a key for good").argument("<key-id>", "the key's id"),
  ).action(async (keyId: string, opts: TenantOptions) => {
    const id = settings.opaqueId("key_id", keyId);
    await withDatabase(opts, async (pool) => {
      const tenant = await resolveTenant(pool, opts.tenant);
      const row = await withTenant(pool, tenant.id, (c) => keys.revokeKey(c, id));
      if (!row) throw new NotFoundError(`key ${id} not found`);
      emit(opts.json === true, { key: keyJson(row) }, () => [`revoked: ${id}`]);
    });
  });

  withTenantOptions(
    cmd
      .command("rotate")
      .description("revoke a key and issue a replacement with the same settings; prints it once")
      .argument("<key-id>", "the key's id"),
  ).action(async (keyId: string, opts: TenantOptions) => {
    const id = settings.opaqueId("key_id", keyId);
    await withDatabase(opts, async (pool) => {
      const tenant = await resolveTenant(pool, opts.tenant);
      const issued = await withTenant(pool, tenant.id, (c) => keys.rotateKey(c, id)).catch((err: unknown) => {
        if (err instanceof keys.KeyExpiredError) throw new CliError(err.message, exitCodes.failure);
        throw err;
      });
      if (!issued) throw new NotFoundError(`key ${id} not found`);
      emit(
        opts.json === true,
        { key: keyJson(issued.key), rawKey: issued.rawKey, warning: saveKeyWarning },
        () => issuedLines(issued.key, issued.rawKey),
      );
    });
  });
}
