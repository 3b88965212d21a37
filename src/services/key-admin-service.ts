import type { ServiceImpl } from "@connectrpc/connect";
import type pg from "pg";
import type { KeyAdminService } from "../../gen/tdb/v1/key_admin_service_pb.js";
import type { Config } from "../config.js";

/** tdb.v1.KeyAdminService. Methods not implemented yet answer Unimplemented. */
export function keyAdminService(
  _pool: pg.Pool,
  _config: Config,
): Partial<ServiceImpl<typeof KeyAdminService>> {
  return {};
}
