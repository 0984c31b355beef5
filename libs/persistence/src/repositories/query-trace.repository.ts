import type { Citation, QueryTrace, SentenceSupport } from '@quarry/contracts';
import type { DataSource, EntityManager } from 'typeorm';

/**
 * The trace of an answer served from the answer cache, as stored: without the answer and its
 * citations, which the serving's own conversation holds in its answer message (written in the same
 * transaction), and without the sentence support that follows from them. A cached answer is served
 * again and again; copying its text, citations and sentences into a trace per serving was most of
 * the agent's write traffic under cached load (measured). `find` fills them in.
 */
export type CachedServingTrace = Omit<QueryTrace, 'answer' | 'citations' | 'sentences'> & { source: 'answer-cache' };

/** A trace as stored: whole, or a cached serving's. */
export type StoredQueryTrace = QueryTrace | CachedServingTrace;

/** A trace as read: whole, except that a cached serving's sentence support is the reader's to compute (sentenceSupport of @quarry/llm). */
export type ReadQueryTrace = Omit<QueryTrace, 'sentences'> & { sentences?: SentenceSupport[] };

/** One trace to store: the tenant and conversation of the exchange it belongs to, and the trace. */
export interface QueryTraceEntry {
  tenantId: string;
  conversationId: string;
  trace: StoredQueryTrace;
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

  /**
   * The tenant's trace of the query, or undefined: a missing id, a malformed one and another
   * tenant's look the same. A cached serving's answer and citations are read from the first answer
   * message of its conversation (the serving started it; the tenant's own rows only).
   */
  async find(tenantId: string, queryId: string): Promise<ReadQueryTrace | undefined> {
    if (!UUID.test(queryId)) return undefined;
    const rows: Array<{ trace: StoredQueryTrace; answer: string | null; citations: Citation[] | null }> = await this.dataSource.query(
      `SELECT t.trace, m.content AS answer, m.citations
       FROM query_traces t
       LEFT JOIN LATERAL (
         SELECT content, citations FROM messages
         WHERE tenant_id = t.tenant_id AND conversation_id = t.conversation_id AND role = 'assistant'
         ORDER BY created_at, id
         LIMIT 1
       ) m ON t.trace -> 'answer' IS NULL
       WHERE t.id = $1 AND t.tenant_id = $2`,
      [queryId, tenantId],
    );
    const row = rows[0];
    if (!row) return undefined;
    if ('answer' in row.trace) return row.trace;
    return { ...row.trace, answer: row.answer ?? '', citations: row.citations ?? [] };
  }

  /** Deletes the tenant's traces older than `days`; returns how many went. */
  async purgeTenantOlderThan(tenantId: string, days: number): Promise<number> {
    const result: [unknown[], number] = await this.dataSource.query(`DELETE FROM query_traces WHERE tenant_id = $1 AND created_at < now() - make_interval(days => $2)`, [tenantId, days]);
    return result[1];
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
