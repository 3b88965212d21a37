/** Services open without a credential: reflection (so tools can discover the API) and health. */
const publicServices = new Set([
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
]);

/** True for services that need no credential. */
export function isPublicService(typeName: string): boolean {
  return publicServices.has(typeName);
}
