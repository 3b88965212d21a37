import type { Command } from "commander";
import { looksLikeId } from "../../auth/key-settings.js";
import { InvalidInputError } from "../../errors.js";
import { createTenant, listTenants } from "../../store/tenants.js";
import { type CommonOptions, withCommonOptions } from "../common-options.js";
import { withDatabase } from "../database.js";
import { emit, isoFromPg, saveKeyWarning, tenantJson } from "../output.js";

/** `tdb tenants create|list`. */
export function tenantsCommand(program: Command): void {
  const tenants = program.command("tenants").description("create and list tenants");

  withCommonOptions(
    tenants
      .command("create")
      .description("create a tenant with a first admin key (printed once)")
      .argument("<name>", "tenant name, unique"),
  ).action(async (name: string, opts: CommonOptions) => {
    await withDatabase(opts, async (pool) => {
      const { tenant, rawKey } = await createTenant(pool, tenantName(name));
      emit(opts.json === true, { tenant: tenantJson(tenant), rawKey, warning: saveKeyWarning }, () => [
        `tenant created: ${tenant.name} (${tenant.id})`,
        `admin key: ${rawKey}`,
        `  ${saveKeyWarning}`,
      ]);
    });
  });

  withCommonOptions(tenants.command("list").description("list tenants, oldest first")).action(
    async (opts: CommonOptions) => {
      await withDatabase(opts, async (pool) => {
        const rows = await listTenants(pool);
        emit(opts.json === true, { tenants: rows.map(tenantJson) }, () =>
          rows.length > 0
            ? rows.map((t) => `${t.id}  ${t.name}  created ${isoFromPg(t.createdAt)}`)
            : ["no tenants"],
        );
      });
    },
  );
}

function tenantName(name: string): string {
  const v = name.trim();
  if (!/^[A-Za-z0-9_.-]{1,100}$/.test(v)) {
    throw new InvalidInputError("name", "a tenant name is 1–100 characters of A-Z a-z 0-9 _ . -");
  }
  // --tenant and static keys accept a name or an id: a name shaped like an id would be ambiguous.
  if (looksLikeId(v)) throw new InvalidInputError("name", "must not look like a tenant id");
  return v;
}
