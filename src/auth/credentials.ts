/**
 * The credential a request carries: `x-api-key: tdbk_…` or `authorization: Bearer …`.
 * Returns undefined when there is none.
 */
export function credentialFrom(header: Headers): string | undefined {
  const apiKey = header.get("x-api-key")?.trim();
  if (apiKey) return apiKey;
  const authorization = header.get("authorization")?.trim();
  if (!authorization) return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(authorization);
  return match?.[1]?.trim() || undefined;
}
