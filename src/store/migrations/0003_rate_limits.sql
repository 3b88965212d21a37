-- Per-key request counters for the rate limiter: one row per key, holding the current
-- fixed window (a calendar minute, computed by PostgreSQL so every server process agrees)
-- and how many requests it has seen. Several processes sharing the database count
-- exactly: each request is one INSERT … ON CONFLICT DO UPDATE on the key's row, which
-- PostgreSQL serialises by row lock.
--
-- Tenant-owned like everything else: tenant_id leads the key (Citus distribution column)
-- and row-level security confines each transaction to its tenant.

CREATE TABLE rate_limit_counters (
  tenant_id uuid NOT NULL,
  key_id uuid NOT NULL,
  window_start timestamptz NOT NULL,
  request_count integer NOT NULL,
  PRIMARY KEY (tenant_id, key_id),
  FOREIGN KEY (tenant_id, key_id) REFERENCES api_keys (tenant_id, id) ON DELETE CASCADE
);

GRANT SELECT, INSERT, UPDATE, DELETE ON rate_limit_counters TO tdb_app;

ALTER TABLE rate_limit_counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE rate_limit_counters FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rate_limit_counters
  USING (tenant_id = (SELECT tdb_current_tenant())) WITH CHECK (tenant_id = (SELECT tdb_current_tenant()));

-- Key listings page by (created_at, id) within a tenant.
CREATE INDEX api_keys_created ON api_keys (tenant_id, created_at, id);
-- A user's keys, for deactivation checks and RegenerateUserKey.
CREATE INDEX api_keys_user ON api_keys (tenant_id, user_id) WHERE user_id IS NOT NULL;
