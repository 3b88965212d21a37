-- Conversions between timestamptz and microseconds since the Unix epoch (the API's unit).
-- Exact (the seconds and the microseconds are scaled separately, so no float rounding), NULL-preserving, usable by the restricted role.
CREATE FUNCTION tdb_us_to_ts(us int8) RETURNS timestamptz
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT to_timestamp(0) + (us / 1000000) * interval '1 second' + (us % 1000000) * interval '1 microsecond' $$;

CREATE FUNCTION tdb_ts_to_us(ts timestamptz) RETURNS int8
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT (extract(epoch FROM ts) * 1000000)::int8 $$;

GRANT EXECUTE ON FUNCTION tdb_us_to_ts(int8), tdb_ts_to_us(timestamptz) TO tdb_app;
