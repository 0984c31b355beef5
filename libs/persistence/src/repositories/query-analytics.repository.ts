import type { DataSource } from 'typeorm';

/** Percentiles of answer time (query_log.total_ms), null when no question was asked. */
export interface LatencyPercentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface QueryVolume {
  queries: number;
  /** Questions answered without a single citation: the documents held nothing to answer from. */
  noAnswer: number;
  latencyMs: LatencyPercentiles;
}

export interface QueryDay extends QueryVolume {
  /** The UTC calendar day, YYYY-MM-DD. */
  day: string;
}

interface VolumeRow {
  queries: string;
  no_answer: string;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

// Every figure is an aggregate computed by Postgres over the tenant's rows of the window
// (query_log_tenant_created_idx), so an operator view never loads a question log into memory.
const FIGURES = `count(q.id) AS queries,
       count(q.id) FILTER (WHERE q.citation_count = 0) AS no_answer,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY q.total_ms) AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY q.total_ms) AS p95,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY q.total_ms) AS p99`;

function toVolume(row: VolumeRow | undefined): QueryVolume {
  return {
    queries: Number(row?.queries ?? 0),
    noAnswer: Number(row?.no_answer ?? 0),
    latencyMs: { p50: row?.p50 ?? null, p95: row?.p95 ?? null, p99: row?.p99 ?? null },
  };
}

/** Figures of a tenant's query log for the operators' analytics (GET /api/analytics/queries). */
export class QueryAnalyticsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The tenant's questions since `since`: how many, how many went unanswered, how long they took. */
  async volume(tenantId: string, since: Date): Promise<QueryVolume> {
    const [row]: VolumeRow[] = await this.dataSource.query(`SELECT ${FIGURES} FROM query_log q WHERE q.tenant_id = $1 AND q.created_at >= $2`, [tenantId, since]);
    return toVolume(row);
  }

  /**
   * The same per UTC calendar day, from the day of `since` to today, days without questions
   * included (with zeros), oldest first; the first day counts only from `since`.
   */
  async byDay(tenantId: string, since: Date): Promise<QueryDay[]> {
    const rows: Array<VolumeRow & { day: string }> = await this.dataSource.query(
      `SELECT to_char(d.day, 'YYYY-MM-DD') AS day, ${FIGURES}
         FROM generate_series(date_trunc('day', $2::timestamptz AT TIME ZONE 'UTC'), date_trunc('day', now() AT TIME ZONE 'UTC'), interval '1 day') AS d(day)
         LEFT JOIN query_log q
           ON q.tenant_id = $1 AND q.created_at >= $2
          AND q.created_at >= d.day AT TIME ZONE 'UTC' AND q.created_at < (d.day + interval '1 day') AT TIME ZONE 'UTC'
        GROUP BY d.day
        ORDER BY d.day`,
      [tenantId, since],
    );
    return rows.map((row) => ({ day: row.day, ...toVolume(row) }));
  }
}
