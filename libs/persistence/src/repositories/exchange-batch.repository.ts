import type { DataSource } from 'typeorm';
import type { ConversationExchange } from './conversation.repository';
import type { QueryLogEntry } from './query-log.repository';
import { QueryTraceRepository, type StoredQueryTrace } from './query-trace.repository';

/** What the agent records of one answered question: the conversation exchange, the query-log row and the audit trail. */
export interface ExchangeRecord {
  exchange: ConversationExchange;
  log: QueryLogEntry;
  /**
   * The query's audit trail (GET /api/queries/{queryId}/trace), written in the exchange's
   * transaction under the exchange's tenant and conversation, never the trace's own; stored once
   * per queryId (a redelivery writes nothing twice). Left out of an exchange that is refused.
   */
  trace?: StoredQueryTrace;
}

/**
 * The agent's write-behind log of answered questions (apps/agent ExchangeLog) lands here: writes
 * many exchanges and query-log rows in one transaction of at most six statements, whatever
 * their number: the conversations some of them start (claimed only within their tenant, exactly as
 * ConversationRepository.appendExchange does for one), the conversations the others continue
 * (touched only when they are the tenant's), both messages and the trace of every exchange whose
 * conversation was claimed, and every query-log row.
 *
 * Message order: an exchange's two messages share a timestamp (the question sorts first, as
 * ConversationRepository.messages reads them), and exchanges of one batch are a microsecond apart
 * in batch order, so two exchanges of one conversation written together keep their order.
 */
export class ExchangeBatchRepository {
  private readonly knownTenants = new Set<string>();
  private readonly traces: QueryTraceRepository;

  constructor(private readonly dataSource: DataSource) {
    this.traces = new QueryTraceRepository(dataSource);
  }

  /**
   * Writes the batch; resolves with the exchanges refused because their conversation is not the tenant's.
   * @allTenants a batch spans tenants (the agent's write-behind log); every row is written under its own record's tenant, and a conversation is claimed or continued only within it.
   */
  async write(batch: readonly ExchangeRecord[]): Promise<ExchangeRecord[]> {
    if (batch.length === 0) return [];
    const refused = await this.dataSource.transaction(async (manager) => {
      const starts = new Map<string, ConversationExchange>();
      for (const { exchange } of batch) if (exchange.startsConversation && !starts.has(exchange.conversationId)) starts.set(exchange.conversationId, exchange);
      const claimed = new Set<string>();

      const tenants = [...new Set([...starts.values()].map((exchange) => exchange.tenantId))].filter((tenant) => !this.knownTenants.has(tenant));
      if (tenants.length > 0) {
        await manager.query('INSERT INTO tenants (id, name) SELECT id, id FROM unnest($1::text[]) AS t(id) ON CONFLICT (id) DO NOTHING', [tenants]);
      }
      if (starts.size > 0) {
        const rows: Array<{ id: string; tenant_id: string }> = await manager.query(
          `INSERT INTO conversations (id, tenant_id, title)
           SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[])
           ON CONFLICT (id) DO UPDATE SET updated_at = now() WHERE conversations.tenant_id = EXCLUDED.tenant_id
           RETURNING id::text AS id, tenant_id`,
          [[...starts.keys()], [...starts.values()].map((exchange) => exchange.tenantId), [...starts.values()].map((exchange) => exchange.question.slice(0, 120))],
        );
        for (const row of rows) claimed.add(claimKey(row.id, row.tenant_id));
      }
      const continued = batch.filter(({ exchange }) => !exchange.startsConversation);
      if (continued.length > 0) {
        // An UPDATE answers [rows, affected].
        const [rows] = await manager.query<[Array<{ id: string; tenant_id: string }>, number]>(
          `UPDATE conversations c SET updated_at = now()
           FROM (SELECT DISTINCT id, tenant_id FROM unnest($1::uuid[], $2::text[]) AS v(id, tenant_id)) v
           WHERE c.id = v.id AND c.tenant_id = v.tenant_id
           RETURNING c.id::text AS id, c.tenant_id`,
          [continued.map(({ exchange }) => exchange.conversationId), continued.map(({ exchange }) => exchange.tenantId)],
        );
        for (const row of rows) claimed.add(claimKey(row.id, row.tenant_id));
      }

      const accepted = batch.map((record, ordinal) => ({ record, ordinal })).filter(({ record }) => claimed.has(claimKey(record.exchange.conversationId, record.exchange.tenantId)));
      if (accepted.length > 0) {
        const columns = { tenant: [] as string[], conversation: [] as string[], role: [] as string[], content: [] as string[], citations: [] as string[], ordinal: [] as number[] };
        for (const { record, ordinal } of accepted) {
          const { exchange } = record;
          for (const [role, content, citations] of [
            ['user', exchange.question, []],
            ['assistant', exchange.answer, exchange.citations],
          ] as const) {
            columns.tenant.push(exchange.tenantId);
            columns.conversation.push(exchange.conversationId);
            columns.role.push(role);
            columns.content.push(content);
            columns.citations.push(JSON.stringify(citations));
            columns.ordinal.push(ordinal);
          }
        }
        await manager.query(
          `INSERT INTO messages (tenant_id, conversation_id, role, content, citations, created_at)
           SELECT t, c, r, m, ci::jsonb, now() + o * interval '1 microsecond'
           FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::int[]) AS v(t, c, r, m, ci, o)`,
          [columns.tenant, columns.conversation, columns.role, columns.content, columns.citations, columns.ordinal],
        );
        const traces = accepted.flatMap(({ record: { exchange, trace } }) => (trace ? [{ tenantId: exchange.tenantId, conversationId: exchange.conversationId, trace }] : []));
        await this.traces.insertMany(traces, manager);
      }

      const logs = batch.map((record) => record.log);
      await manager.query(
        `INSERT INTO query_log (tenant_id, question, hit_count, citation_count, generator, retrieval_ms, generation_ms, total_ms, correlation_id)
         SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::text[], $6::real[], $7::real[], $8::real[], $9::text[])`,
        [
          logs.map((log) => log.tenantId),
          logs.map((log) => log.question),
          logs.map((log) => log.hitCount),
          logs.map((log) => log.citationCount),
          logs.map((log) => log.generator),
          logs.map((log) => log.retrievalMs),
          logs.map((log) => log.generationMs),
          logs.map((log) => log.totalMs),
          logs.map((log) => log.correlationId),
        ],
      );
      return batch.filter((record) => !claimed.has(claimKey(record.exchange.conversationId, record.exchange.tenantId)));
    });
    for (const { exchange } of batch) if (exchange.startsConversation) this.knownTenants.add(exchange.tenantId);
    return refused;
  }
}

function claimKey(conversationId: string, tenantId: string): string {
  return `${conversationId}\u0000${tenantId}`;
}
