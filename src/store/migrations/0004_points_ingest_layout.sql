-- The layout of `points` for bulk ingest at COPY speed and for the read modes.
--
-- points_key was UNIQUE (tenant_id, series_id, valid_time, known_time DESC, change_time DESC,
-- run_id DESC). Every ingested row pays for its index entry, so the entry is made smaller
-- and cheaper to insert:
--
-- * tenant_id leaves the key. Series ids are random 53-bit integers, so a series id
--   names one series of one tenant; reads always list the tenant's series ids (from
--   `series`, confined by RLS) as the index condition, and the RLS policy on `points`
--   still filters every row by tenant. The entry shrinks from 64 to 48 bytes.
-- * The index is no longer UNIQUE: the uniqueness it guarded (no duplicate valid time for
--   a series within one upload) is checked by ingest itself, for free when the upload's
--   order rules duplicates out, else by one query over the staging table. Versions of one
--   value differ in run_id or change_time anyway. A non-unique index also stays valid
--   under Citus (a unique one would have to include the distribution column tenant_id).
--
-- The column order is unchanged, so every read mode still walks the index in its ORDER
-- BY: LATEST and AS_OF as Index Scan + Unique, ALL_VINTAGES and CORRECTIONS with an
-- Incremental Sort inside each (series, valid_time) group. Ingest inserts rows sorted in
-- this order, so leaf pages fill from the left and the heap follows the index.
--
-- The table stays append-mostly (corrections add versions, nothing updates in place), so
-- the heap keeps fillfactor 100.

DROP INDEX points_key;
CREATE INDEX points_key ON points (series_id, valid_time, known_time DESC, change_time DESC, run_id DESC);
