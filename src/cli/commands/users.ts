import type { Command } from "commander";
import * as settings from "../../auth/key-settings.js";
import { NotFoundError } from "../../errors.js";
import { withTenant } from "../../store/tenant-tx.js";
import * as users from "../../store/users-store.js";
import { type TenantOptions, withTenantOptions } from "../common-options.js";
import { resolveTenant, withDatabase } from "../database.js";
import { emit, issuedLines, keyJson, saveKeyWarning, userJson, userLine } from "../output.js";

/** A user named on the command line by id or email. */
export function userRefArg(value: string): users.UserRef {
  return settings.looksLikeId(value) ? { id: value.toLowerCase() } : { email: settings.email("user", value) };
}

/** `tdb users create|list|deactivate|activate|regenerate-key`. */
export function usersCommand(program: Command): void {
  const cmd = program.command("users").description("manage the users of a tenant");

  withTenantOptions(
    cmd
      .command("create")
      .description("create a user with a first key (printed once)")
      .argument("<email>", "email, unique within the tenant")
      .option("--role <role>", "role of the first key: read, readwrite or admin", "readwrite"),
  ).action(async (email: string, opts: TenantOptions & { role: string }) => {
    const address = settings.email("email", email);
    const role = settings.roleNamed("role", opts.role);
    await withDatabase(opts, async (pool) => {
      const tenant = await resolveTenant(pool, opts.tenant);
      const r = await withTenant(pool, tenant.id, (c) => users.createUser(c, tenant.id, address, role));
      emit(
        opts.json === true,
        { user: userJson(r.user), key: keyJson(r.key), rawKey: r.rawKey, warning: saveKeyWarning },
        () => [`user created: ${userLine(r.user)}`, ...issuedLines(r.key, r.rawKey)],
      );
    });
  });

  withTenantOptions(
    cmd.command("list").description("list users, oldest first").option("--all", "include deactivated users"),
  ).action(async (opts: TenantOptions & { all?: boolean }) => {
    await withDatabase(opts, async (pool) => {
      const tenant = await resolveTenant(pool, opts.tenant);
      const rows = await withTenant(pool, tenant.id, (c) =>
        users.listUsers(c, { includeInactive: opts.all === true, limit: 1_000_000 }),
      );
      emit(opts.json === true, { users: rows.map(userJson) }, () =>
        rows.length > 0 ? rows.map(userLine) : ["no users"],
      );
    });
  });

  for (const [name, active, what] of [
    ["deactivate", false, "deactivate a user: every key it owns stops at once"],
    ["activate", true, "activate a user again: its keys work again"],
  ] as const) {
    withTenantOptions(cmd.command(name).description(what).argument("<user>", "email or user id")).action(
      async (user: string, opts: TenantOptions) => {
        const ref = userRefArg(user);
        await withDatabase(opts, async (pool) => {
          const tenant = await resolveTenant(pool, opts.tenant);
          const row = await withTenant(pool, tenant.id, (c) => users.setUserActive(c, ref, active));
          if (!row) throw new NotFoundError(`${users.describeUser(ref)} not found`);
          emit(opts.json === true, { user: userJson(row) }, () => [userLine(row)]);
        });
      },
    );
  }

  withTenantOptions(
    cmd
      .command("regenerate-key")
      .description("rotate the user's keys; prints the new key once")
      .argument("<user>", "email or user id"),
  ).action(async (user: string, opts: TenantOptions) => {
    const ref = userRefArg(user);
    await withDatabase(opts, async (pool) => {
      const tenant = await resolveTenant(pool, opts.tenant);
      const issued = await withTenant(pool, tenant.id, (c) => users.regenerateUserKey(c, tenant.id, ref));
      if (!issued) throw new NotFoundError(`${users.describeUser(ref)} not found`);
      emit(
        opts.json === true,
        { key: keyJson(issued.key), rawKey: issued.rawKey, warning: saveKeyWarning },
        () => issuedLines(issued.key, issued.rawKey),
      );
    });
  });
}
