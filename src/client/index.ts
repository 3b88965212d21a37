/**
 * The TDB Node client: typed clients for the generated services with credentials attached.
 * Services and messages come from `gen/tdb/v1/*_pb.js`; re-exported here for convenience.
 */
export { KeyAdminService } from "../../gen/tdb/v1/key_admin_service_pb.js";
export { TimeSeriesService } from "../../gen/tdb/v1/time_series_service_pb.js";
export {
  apiKeyInterceptor,
  bearerTokenInterceptor,
  createTdbClient,
  createTdbTransport,
  type TdbClientOptions,
  type TdbProtocol,
} from "./create-client.js";
