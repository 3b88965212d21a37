import type { TenantClient } from "./tenant-tx.js";

/** A series row as the store returns it. */
export interface SeriesRow {
  id: string;
  name: string;
  labels: Record<string, string>;
  unit: string;
  description: string;
  kind: number;
  createdAtUs: string;
}

const columns = `id::text, name, labels, unit, description, kind,
  (extract(epoch from created_at) * 1000000)::int8::text AS "createdAtUs"`;

/** Thrown when name + labels already exist in the tenant. */
export class SeriesExistsError extends Error {}

/** Creates a series; SeriesExistsError when the tenant has the same name + labels. */
export async function createSeries(
  c: TenantClient,
  tenantId: string,
  s: { name: string; labels: Record<string, string>; unit: string; description: string; kind: number },
): Promise<SeriesRow> {
  const { rows } = await c.query<SeriesRow>(
    `INSERT INTO series (tenant_id, name, labels, unit, description, kind)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (tenant_id, name, labels) DO NOTHING
     RETURNING ${columns}`,
    [tenantId, s.name, JSON.stringify(s.labels), s.unit, s.description, s.kind],
  );
  const row = rows[0];
  if (!row) throw new SeriesExistsError(`series ${s.name} with these labels already exists`);
  return row;
}

/** One series by id, or undefined (also for another tenant's id: RLS hides it). */
export async function getSeries(c: TenantClient, id: bigint): Promise<SeriesRow | undefined> {
  const { rows } = await c.query<SeriesRow>(`SELECT ${columns} FROM series WHERE id = $1`, [id.toString()]);
  return rows[0];
}

/** A page of series matching the filters, ordered by (name, id); `after` is the last (name, id) seen. */
export async function listSeries(
  c: TenantClient,
  f: {
    name: string;
    labels: Record<string, string>;
    unit: string;
    limit: number;
    after?: { name: string; id: string };
  },
): Promise<SeriesRow[]> {
  const { rows } = await c.query<SeriesRow>(
    `SELECT ${columns} FROM series
      WHERE ($1 = '' OR name = $1) AND labels @> $2::jsonb AND ($3 = '' OR unit = $3)
        AND ($4::text IS NULL OR (name, id) > ($4, $5::int8))
      ORDER BY name, id LIMIT $6`,
    [f.name, JSON.stringify(f.labels), f.unit, f.after?.name ?? null, f.after?.id ?? null, f.limit],
  );
  return rows;
}

/** Deletes a series and its values; returns the number of value versions removed, or undefined if missing. */
export async function deleteSeries(c: TenantClient, id: bigint): Promise<number | undefined> {
  const del = await c.query(`DELETE FROM series WHERE id = $1`, [id.toString()]);
  if (del.rowCount === 0) return undefined;
  const blocks = await c.query<{ n: string }>(
    `WITH d AS (DELETE FROM point_blocks WHERE series_id = $1 RETURNING n) SELECT COALESCE(sum(n), 0)::text AS n FROM d`,
    [id.toString()],
  );
  return Number(blocks.rows[0]?.n ?? 0);
}
