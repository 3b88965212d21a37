-- The first schema: tenants, users, API keys, series, runs and points (value versions).
--
-- Tenancy: every tenant-owned table carries tenant_id, leads its keys with it (Citus
-- distribution column, co-located) and is guarded by a row-level-security policy that
-- reads the tenant from the transaction-local setting tdb.tenant_id. No tenant set means
-- zero rows, never an error and never all rows. The server runs tenant queries as the
-- role tdb_app, which cannot bypass RLS, even when it connects as a superuser.
--
-- Ids of series and runs are random 63-bit integers (not sequences), so one tenant
-- cannot learn how much another one creates; they are shown to clients as strings.

-- Roles are cluster-wide: databases migrating at the same time may race to create it.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tdb_app') THEN
    CREATE ROLE tdb_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

-- Lets the configured login user `SET ROLE tdb_app` even when it is not a superuser.
DO $$
BEGIN
  IF NOT pg_has_role(current_user, 'tdb_app', 'MEMBER') THEN
    EXECUTE format('GRANT tdb_app TO %I', current_user);
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

CREATE FUNCTION tdb_current_tenant() RETURNS uuid
  LANGUAGE sql STABLE
  AS $$ SELECT NULLIF(current_setting('tdb.tenant_id', true), '')::uuid $$;

CREATE FUNCTION tdb_random_id() RETURNS bigint
  LANGUAGE sql VOLATILE
  AS $$ SELECT (floor(random() * 9007199254740991) + 1)::bigint $$;

CREATE TABLE tenants (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  email text NOT NULL,
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, email)
);

CREATE TABLE api_keys (
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  name text NOT NULL,
  -- SHA-256 of the whole raw key; the raw key is never stored.
  key_hash bytea NOT NULL,
  key_prefix text NOT NULL,
  role text NOT NULL CHECK (role IN ('read', 'readwrite', 'admin')),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  revoked_at timestamptz,
  last_used_at timestamptz,
  rate_limit integer CHECK (rate_limit > 0),
  allowed_methods text[] NOT NULL DEFAULT '{}',
  user_id uuid,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
-- The one global unique index: lookups by hash happen before the tenant is known.
-- (With Citus, api_keys becomes a reference table.)
CREATE UNIQUE INDEX api_keys_key_hash ON api_keys (key_hash);

CREATE TABLE series (
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id bigint NOT NULL DEFAULT tdb_random_id(),
  name text NOT NULL,
  labels jsonb NOT NULL DEFAULT '{}',
  unit text NOT NULL DEFAULT '',
  description text NOT NULL DEFAULT '',
  -- 1 = ACTUAL, 2 = FORECAST (the SeriesKind enum numbers)
  kind smallint NOT NULL CHECK (kind IN (1, 2)),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, name, labels)
);
CREATE INDEX series_labels ON series USING gin (labels jsonb_path_ops);

CREATE TABLE runs (
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id bigint NOT NULL DEFAULT tdb_random_id(),
  known_time timestamptz NOT NULL,
  workflow_id text NOT NULL DEFAULT '',
  params jsonb NOT NULL DEFAULT '{}',
  started_at timestamptz,
  finished_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by text NOT NULL DEFAULT '',
  point_count bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX runs_known_time ON runs (tenant_id, known_time DESC, id DESC);
CREATE INDEX runs_workflow ON runs (tenant_id, workflow_id, known_time DESC, id DESC);

-- One row per stored version of a value. An upload writes one version per point
-- (change_time = the upload's transaction time); a correction adds a version with a
-- later change_time. No foreign key to series: the RI trigger per row would cost more
-- than the whole COPY; DeleteSeries removes points itself and ingest checks series.
CREATE TABLE points (
  tenant_id uuid NOT NULL,
  series_id bigint NOT NULL,
  valid_time timestamptz NOT NULL,
  known_time timestamptz NOT NULL,
  change_time timestamptz NOT NULL,
  run_id bigint NOT NULL,
  value double precision,
  valid_time_end timestamptz,
  annotation text,
  tags text[],
  metadata jsonb,
  -- NULL on uploaded versions (the run records its creator); the caller on corrections.
  changed_by text
);
-- The read key: LATEST and AS_OF are an index scan + Unique on this order, without a sort.
CREATE UNIQUE INDEX points_key ON points (tenant_id, series_id, valid_time, known_time DESC, change_time DESC, run_id DESC);


GRANT USAGE ON SCHEMA public TO tdb_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON tenants, users, api_keys, series, runs, points TO tdb_app;
GRANT EXECUTE ON FUNCTION tdb_current_tenant(), tdb_random_id() TO tdb_app;

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants
  USING (id = (SELECT tdb_current_tenant())) WITH CHECK (id = (SELECT tdb_current_tenant()));

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON users
  USING (tenant_id = (SELECT tdb_current_tenant())) WITH CHECK (tenant_id = (SELECT tdb_current_tenant()));

ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_keys
  USING (tenant_id = (SELECT tdb_current_tenant())) WITH CHECK (tenant_id = (SELECT tdb_current_tenant()));

ALTER TABLE series ENABLE ROW LEVEL SECURITY;
ALTER TABLE series FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON series
  USING (tenant_id = (SELECT tdb_current_tenant())) WITH CHECK (tenant_id = (SELECT tdb_current_tenant()));

ALTER TABLE runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE runs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON runs
  USING (tenant_id = (SELECT tdb_current_tenant())) WITH CHECK (tenant_id = (SELECT tdb_current_tenant()));

ALTER TABLE points ENABLE ROW LEVEL SECURITY;
ALTER TABLE points FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON points
  USING (tenant_id = (SELECT tdb_current_tenant())) WITH CHECK (tenant_id = (SELECT tdb_current_tenant()));
