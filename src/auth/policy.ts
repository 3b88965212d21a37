import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { principalKey } from "./principal.js";
import { isPublicService } from "./public-services.js";
import { requiredRole, roleSatisfies } from "./roles.js";

/**
 * Enforces the role each method declares in the proto (`(tdb.v1.required_role)`), then the
 * key's method allow-list. A method that declares no role is refused: forgetting the
 * declaration fails closed.
 */
export function policy(): Interceptor {
  return (next) => async (req) => {
    if (isPublicService(req.service.typeName)) return next(req);
    const principal = req.contextValues.get(principalKey);
    if (!principal) throw new ConnectError("API key required", Code.Unauthenticated);
    const fullName = `${req.service.typeName}/${req.method.name}`;
    const needed = requiredRole(req.method);
    if (needed === undefined) {
      throw new ConnectError(`${fullName} declares no required role and is refused`, Code.PermissionDenied);
    }
    if (!roleSatisfies(principal.role, needed)) {
      throw new ConnectError(
        `${fullName} requires role ${needed}; this key has role ${principal.role}`,
        Code.PermissionDenied,
      );
    }
    if (principal.allowedMethods.length > 0 && !principal.allowedMethods.includes(fullName)) {
      throw new ConnectError(`this key may not call ${fullName}`, Code.PermissionDenied);
    }
    return next(req);
  };
}
