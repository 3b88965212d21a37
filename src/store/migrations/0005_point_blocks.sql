-- Uploaded values are stored in blocks: one row per (series, run, up to 8,192 consecutive
-- valid times), the times and values packed as big-endian arrays in bytea columns.
--
-- Why: with one row per point, every point paid a heap tuple header (24 bytes), the
-- tenant/series/run/known/change columns again, and a btree entry inserted into the middle
-- of the index for every new run. Measured on the 2-core bench box (bench/, README):
-- ingest ran at 0.36 of a plain `\copy` into a (series_id, valid_time) table, the tenth run
-- at 0.61 of the first, and LATEST reads at 0.24 of `\copy … TO`. A block costs one tuple
-- and one index entry per ~2,000 points, 16 bytes per point (8 time + 8 value), no parsing
-- on either side (COPY binary bytea is raw bytes), and a new run appends a few index
-- entries instead of splitting leaf pages: the bulk paths run at the speed of moving bytes.
--
-- Layout of a block (n points, strictly increasing valid times):
--   valid_times      n × int8, microseconds since the Unix epoch (PostgreSQL's int8send form)
--   values           n × float8 (float8send form); 0 where the value is null
--   nulls            n × 1 byte, 1 = null; NULL when the block has no null
--   valid_time_ends  n × int8, 0 = no end; NULL when no point has an end
--   annotations      text[n] ('' = none); NULL when none
--   tags             jsonb array of n string arrays; NULL when none
--   metadata         jsonb array of n objects (or null); NULL when none
--   changed_by       who corrected the value (a correction's block); NULL when uploaded
-- first_time / last_time are the first and last valid time: reads find blocks by range.
--
-- Reads merge the blocks of a series in valid-time order (src/store/merge.ts), so several
-- runs (and corrections) of one valid time are resolved in the server, block by block,
-- with memory bounded by the blocks that overlap: every read mode is a walk of the index
-- (series_id, first_time) without a sort.
--
-- A correction (UpdateValues) is a block of one point with changed_by set (NULL on
-- uploaded blocks: the run records its creator). One table holds every version, so a read
-- is one index scan (a UNION with a second table kept PostgreSQL 18 from merging two
-- ordered index scans under the series filter: it sorted the whole result instead).
CREATE TABLE point_blocks (
  tenant_id uuid NOT NULL,
  series_id bigint NOT NULL,
  first_time timestamptz NOT NULL,
  last_time timestamptz NOT NULL,
  known_time timestamptz NOT NULL,
  change_time timestamptz NOT NULL,
  run_id bigint NOT NULL,
  n int4 NOT NULL CHECK (n > 0),
  valid_times bytea NOT NULL CHECK (length(valid_times) = 8 * n),
  values bytea NOT NULL CHECK (length(values) = 8 * n),
  nulls bytea CHECK (length(nulls) = n),
  valid_time_ends bytea CHECK (length(valid_time_ends) = 8 * n),
  annotations text[],
  tags jsonb,
  metadata jsonb,
  changed_by text
);
-- Random doubles do not compress, and hourly timestamps compress but cost pglz CPU on
-- every write: keep the arrays uncompressed (still moved out of line into TOAST).
ALTER TABLE point_blocks ALTER COLUMN valid_times SET STORAGE EXTERNAL;
ALTER TABLE point_blocks ALTER COLUMN values SET STORAGE EXTERNAL;
-- Like points_key (0004): no tenant column (series ids are random and name one series of
-- one tenant; reads list the tenant's series ids from RLS-confined `series`), not unique
-- (ingest checks duplicate valid times itself).
CREATE INDEX point_blocks_key ON point_blocks (series_id, first_time);

GRANT SELECT, INSERT, UPDATE, DELETE ON point_blocks TO tdb_app;
ALTER TABLE point_blocks ENABLE ROW LEVEL SECURITY;
ALTER TABLE point_blocks FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON point_blocks
  USING (tenant_id = (SELECT tdb_current_tenant())) WITH CHECK (tenant_id = (SELECT tdb_current_tenant()));

-- Existing versions move into blocks (8,192 points each, in valid-time order); each
-- correction becomes a block of its own (its change_time is its own).
INSERT INTO point_blocks (tenant_id, series_id, first_time, last_time, known_time, change_time, run_id, n,
                          valid_times, values, nulls, valid_time_ends, annotations, tags, metadata, changed_by)
SELECT tenant_id, series_id, min(valid_time), max(valid_time), known_time, change_time, run_id, count(*),
       string_agg(int8send(tdb_ts_to_us(valid_time)), ''::bytea ORDER BY valid_time),
       string_agg(COALESCE(float8send(value), '\x0000000000000000'::bytea), ''::bytea ORDER BY valid_time),
       CASE WHEN bool_or(value IS NULL)
            THEN string_agg(CASE WHEN value IS NULL THEN '\x01'::bytea ELSE '\x00'::bytea END, ''::bytea ORDER BY valid_time) END,
       CASE WHEN bool_or(valid_time_end IS NOT NULL)
            THEN string_agg(int8send(COALESCE(tdb_ts_to_us(valid_time_end), 0)), ''::bytea ORDER BY valid_time) END,
       CASE WHEN bool_or(annotation IS NOT NULL)
            THEN array_agg(COALESCE(annotation, '') ORDER BY valid_time) END,
       CASE WHEN bool_or(tags IS NOT NULL)
            THEN jsonb_agg(COALESCE(to_jsonb(tags), '[]'::jsonb) ORDER BY valid_time) END,
       CASE WHEN bool_or(metadata IS NOT NULL)
            THEN jsonb_agg(metadata ORDER BY valid_time) END,
       changed_by
  FROM (SELECT p.*, (row_number() OVER (PARTITION BY tenant_id, series_id, run_id, known_time, change_time, changed_by
                                        ORDER BY valid_time) - 1) / 8192 AS part
          FROM points p) s
 GROUP BY tenant_id, series_id, run_id, known_time, change_time, changed_by, part;

DROP TABLE points;
