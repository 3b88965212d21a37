/** What both entry points export besides their transport: services, messages, credentials. */
export { KeyAdminService } from "./gen/tdb/v1/key_admin_service_pb.js";
export * from "./gen/tdb/v1/key_admin_service_pb.js";
export { TimeSeriesService } from "./gen/tdb/v1/time_series_service_pb.js";
export * from "./gen/tdb/v1/time_series_service_pb.js";
export * from "./gen/tdb/v1/types_pb.js";
export { Role } from "./gen/tdb/v1/options_pb.js";
export {
  apiKeyInterceptor,
  bearerTokenInterceptor,
  type TdbClientOptions,
  type TdbProtocol,
} from "./options.js";
