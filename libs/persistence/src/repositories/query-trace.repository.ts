import type { QueryTrace } from '@quarry/contracts';
import type { DataSource, EntityManager } from 'typeorm';

/** One trace to store: the tenant and conversation of the exchange it belongs to, and the trace. */
export interface QueryTraceEntry {
  tenantId: string;
  conversationId: string;
  trace: QueryTrace;
}

/** Where a write runs: the repository's own connection, or a transaction already open. */
export type QueryRunnerLike = Pick<EntityManager, 'query'>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The audit trails of queries (table query_traces), per tenant. A trace is written with its
 * exchange, in the exchange's transaction (apps/agent ExchangeWriter), and read back by the
 * gateway's /api/queries/{id}/trace and /report.
 */
export class QueryTraceRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Stores the traces; resolves with how many were new. The row's tenant and conversation are the
   * entry's (the exchange's), never what the trace says: the stored trace names the row's
   * conversation. A trace whose id is already stored is left as it is (ON CONFLICT DO NOTHING): a
   * redelivered exchange writes nothing twice, and an id taken by another tenant is never
   * overwritten. `runner` is an open transaction's manager, so the traces commit with their exchange.
   */
  async insertMany(entries: readonly QueryTraceEntry[], runner: QueryRunnerLike = this.dataSource.manager): Promise<number> {
    if (entries.length === 0) return 0;
    const rows: unknown[] = await runner.query(
      `INSERT INTO query_traces (id, tenant_id, conversation_id, question, trace)
       SELECT id, tenant_id, conversation_id, question, trace::jsonb
       FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[]) AS v(id, tenant_id, conversation_id, question, trace)
       ON CONFLICT (id) DO NOTHING
       RETURNING id`,
      [
        entries.map((entry) => entry.trace.queryId),
        entries.map((entry) => entry.tenantId),
        entries.map((entry) => entry.conversationId),
        entries.map((entry) => entry.trace.question),
        entries.map((entry) => JSON.stringify({ ...entry.trace, conversationId: entry.conversationId })),
      ],
    );
    return rows.length;
  }

  /** The tenant's trace of the query, or undefined: a missing id, a malformed one and another tenant's look the same. */
  async find(tenantId: string, queryId: string): Promise<QueryTrace | undefined> {
    if (!UUID.test(queryId)) return undefined;
    const rows: Array<{ trace: QueryTrace }> = await this.dataSource.query('SELECT trace FROM query_traces WHERE id = $1 AND tenant_id = $2', [queryId, tenantId]);
    return rows[0]?.trace;
  }

  /**
   * Deletes traces older than the retention window (the query log's: a trace repeats a logged
   * question); returns how many went.
   * @allTenants system work: the scheduler's retention purge; it takes an age, never an id.
   */
  async purgeOlderThan(days: number): Promise<number> {
    const result: [unknown[], number] = await this.dataSource.query(`DELETE FROM query_traces WHERE created_at < now() - make_interval(days => $1)`, [days]);
    return result[1];
  }
}
