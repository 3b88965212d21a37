import type { DescMethod } from "@bufbuild/protobuf";
import { getOption } from "@bufbuild/protobuf";
import { Role, required_role } from "../../gen/tdb/v1/options_pb.js";

/** Role names as stored in the database. */
export type RoleName = "read" | "readwrite" | "admin";

const rank: Record<RoleName, number> = { read: 1, readwrite: 2, admin: 3 };

/** True when a principal holding `held` may call something that requires `needed`. */
export function roleSatisfies(held: RoleName, needed: RoleName): boolean {
  return rank[held] >= rank[needed];
}

/** Proto enum → database name; undefined for ROLE_UNSPECIFIED. */
export function roleName(role: Role): RoleName | undefined {
  switch (role) {
    case Role.READ:
      return "read";
    case Role.READWRITE:
      return "readwrite";
    case Role.ADMIN:
      return "admin";
    default:
      return undefined;
  }
}

/** Database name → proto enum. */
export function roleEnum(name: RoleName): Role {
  return name === "read" ? Role.READ : name === "readwrite" ? Role.READWRITE : Role.ADMIN;
}

/**
 * The role a method requires, read from its `(tdb.v1.required_role)` option. Undefined
 * when the method declares none: the policy refuses such methods.
 */
export function requiredRole(method: DescMethod): RoleName | undefined {
  return roleName(getOption(method, required_role));
}
