import type { DataSource } from 'typeorm';

interface Queryable {
  query(sql: string, params?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
}

/**
 * L3: the `cache_entries` table (migration 1764500000000), on the service's own DataSource pool.
 * Queries go to the pg Pool under TypeORM (its `driver.master`) when there is one: TypeORM's
 * `dataSource.query` takes a query runner per call, which costs more than the query itself here.
 * Expiry is judged by the database clock, so replicas with skewed clocks agree.
 */
export class PostgresTier {
  constructor(private readonly dataSource: DataSource) {}

  private async run(sql: string, params: unknown[]): Promise<Array<Record<string, unknown>>> {
    const pool = (this.dataSource.driver as unknown as { master?: Queryable }).master;
    if (pool && typeof pool.query === 'function') return (await pool.query(sql, params)).rows;
    if (!this.dataSource.isInitialized) throw new Error('the DataSource is not initialized');
    return this.dataSource.query<Array<Record<string, unknown>>>(sql, params);
  }

  /** The row's JSON bytes and remaining lifetime; `expired` rows are deleted by the caller. */
  async get(kind: string, key: string): Promise<{ value: Buffer; remainingMs: number } | 'expired' | undefined> {
    const rows = await this.run(
      `SELECT value, (EXTRACT(EPOCH FROM (expires_at - now())) * 1000)::float8 AS remaining_ms FROM cache_entries WHERE kind = $1 AND key = $2`,
      [kind, key],
    );
    const row = rows[0];
    if (!row) return undefined;
    const remainingMs = Number(row.remaining_ms);
    if (!(remainingMs > 0)) return 'expired';
    return { value: row.value as Buffer, remainingMs };
  }

  async set(kind: string, key: string, value: Buffer, ttlMs: number): Promise<void> {
    await this.run(
      `INSERT INTO cache_entries (kind, key, value, bytes, expires_at)
       VALUES ($1, $2, $3, $4, now() + $5 * interval '1 millisecond')
       ON CONFLICT (kind, key) DO UPDATE SET value = EXCLUDED.value, bytes = EXCLUDED.bytes, expires_at = EXCLUDED.expires_at`,
      [kind, key, value, value.length, Math.max(1, Math.round(ttlMs))],
    );
  }

  /** One statement for a batch (keys must be distinct); the number of rows written. */
  async setMany(kind: string, entries: Array<{ key: string; value: Buffer }>, ttlMs: number): Promise<number> {
    const rows = await this.run(
      `INSERT INTO cache_entries (kind, key, value, bytes, expires_at)
       SELECT $1, t.key, t.value, length(t.value), now() + $4 * interval '1 millisecond' FROM unnest($2::text[], $3::bytea[]) AS t(key, value)
       ON CONFLICT (kind, key) DO UPDATE SET value = EXCLUDED.value, bytes = EXCLUDED.bytes, expires_at = EXCLUDED.expires_at
       RETURNING 1`,
      [kind, entries.map((entry) => entry.key), entries.map((entry) => entry.value), Math.max(1, Math.round(ttlMs))],
    );
    return rows.length;
  }

  async delete(kind: string, key: string): Promise<void> {
    await this.run(`DELETE FROM cache_entries WHERE kind = $1 AND key = $2`, [kind, key]);
  }

  /** Deletes the row only if it is (still) expired: a fresh value written meanwhile stays. */
  async deleteIfExpired(kind: string, key: string): Promise<number> {
    return (await this.run(`DELETE FROM cache_entries WHERE kind = $1 AND key = $2 AND expires_at <= now() RETURNING 1`, [kind, key])).length;
  }

  /** Deletes up to `batch` expired rows (oldest first, skipping rows others hold); the kinds of the rows deleted. */
  async purgeBatch(batch: number): Promise<string[]> {
    const rows = await this.run(
      `DELETE FROM cache_entries WHERE (kind, key) IN (
         SELECT kind, key FROM cache_entries WHERE expires_at <= now() ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED
       ) RETURNING kind`,
      [batch],
    );
    return rows.map((row) => row.kind as string);
  }

  /** Live rows and bytes per kind. */
  async usage(): Promise<Map<string, { entries: number; bytes: number }>> {
    const rows = await this.run(
      `SELECT kind, count(*)::float8 AS entries, coalesce(sum(bytes), 0)::float8 AS bytes FROM cache_entries WHERE expires_at > now() GROUP BY kind`,
      [],
    );
    return new Map(rows.map((row) => [row.kind as string, { entries: Number(row.entries), bytes: Number(row.bytes) }]));
  }
}
