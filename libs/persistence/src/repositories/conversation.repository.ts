import type { DataSource } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { MessageEntity } from '../entities/message.entity';
import { ensureTenant } from './document.repository';

/** One question/answer exchange of a tenant, and the conversation it belongs to. */
export interface ConversationExchange {
  tenantId: string;
  conversationId: string;
  /**
   * True: the agent named a new conversation (created now, or already created by an earlier
   * delivery of this same write). False: the client continues one, which must be the tenant's.
   */
  startsConversation: boolean;
  question: string;
  answer: string;
  citations: unknown[];
}

/** A conversation as listed: no messages, only how many it has. */
export interface ConversationSummary {
  id: string;
  title: string;
  createdAt: Date;
  updatedAt: Date;
  messageCount: number;
}

export interface ConversationPage {
  items: ConversationSummary[];
  total: number;
}

interface SummaryRow {
  id: string;
  title: string;
  created_at: Date;
  updated_at: Date;
  message_count: number;
}

// Both the conversation and its messages are matched on the tenant: the count never reaches a
// message of another tenant, whatever a row's conversation id says.
const SUMMARY_COLUMNS = `c.id::text AS id, c.title, c.created_at, c.updated_at,
  (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id AND m.tenant_id = c.tenant_id)::int AS message_count`;

function toSummary(row: SummaryRow): ConversationSummary {
  return { id: row.id, title: row.title, createdAt: row.created_at, updatedAt: row.updated_at, messageCount: row.message_count };
}

/**
 * Conversations and their messages (question, answer with citations). Every method takes the
 * tenant; a conversation id never reaches another tenant's conversation, and messages carry the
 * tenant too (a foreign key on (conversation_id, tenant_id) holds it to their conversation's).
 */
export class ConversationRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Whether the conversation exists and is the tenant's. */
  async exists(tenantId: string, conversationId: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query('SELECT 1 FROM conversations WHERE id = $1 AND tenant_id = $2', [conversationId, tenantId]);
    return rows.length > 0;
  }

  /**
   * Appends one exchange. False, and nothing written, when the conversation is not the tenant's:
   * another tenant's (a new one whose id is taken, or one a client names) or, when continuing, one
   * that does not exist. The conversation row is claimed by one statement that matches the tenant
   * (an update never moves a row to another tenant), before any message is written.
   */
  async appendExchange(exchange: ConversationExchange): Promise<boolean> {
    const { tenantId, conversationId } = exchange;
    return this.dataSource.transaction(async (manager) => {
      let claimed: unknown[];
      if (exchange.startsConversation) {
        await ensureTenant(manager, tenantId);
        claimed = await manager.query(
          `INSERT INTO conversations (id, tenant_id, title) VALUES ($1, $2, $3)
           ON CONFLICT (id) DO UPDATE SET updated_at = now() WHERE conversations.tenant_id = EXCLUDED.tenant_id
           RETURNING id`,
          [conversationId, tenantId, exchange.question.slice(0, 120)],
        );
      } else {
        // An UPDATE answers [rows, affected].
        const [rows] = await manager.query<[unknown[], number]>(
          'UPDATE conversations SET updated_at = now() WHERE id = $1 AND tenant_id = $2 RETURNING id',
          [conversationId, tenantId],
        );
        claimed = rows;
      }
      if (claimed.length === 0) return false;
      await manager.insert(MessageEntity, [
        { tenantId, conversationId, role: 'user', content: exchange.question, citations: [] },
        { tenantId, conversationId, role: 'assistant', content: exchange.answer, citations: exchange.citations as QueryDeepPartialEntity<unknown>[] },
      ]);
      return true;
    });
  }

  /** The messages of the tenant's conversation, oldest first (none for another tenant's). */
  messages(tenantId: string, conversationId: string): Promise<MessageEntity[]> {
    // An exchange's two messages share their transaction's timestamp: the question ('user') goes first.
    return this.dataSource.getRepository(MessageEntity).find({ where: { tenantId, conversationId }, order: { createdAt: 'ASC', role: 'DESC' } });
  }

  /**
   * One page of the tenant's conversations, the most recently active first (a continued
   * conversation moves to the top); ties by id, so pages never overlap.
   */
  async list(tenantId: string, options: { limit: number; offset: number }): Promise<ConversationPage> {
    const [rows, counted] = await Promise.all([
      this.dataSource.query<SummaryRow[]>(
        `SELECT ${SUMMARY_COLUMNS} FROM conversations c WHERE c.tenant_id = $1 ORDER BY c.updated_at DESC, c.id ASC LIMIT $2 OFFSET $3`,
        [tenantId, options.limit, options.offset],
      ),
      this.dataSource.query<Array<{ total: number }>>('SELECT count(*)::int AS total FROM conversations WHERE tenant_id = $1', [tenantId]),
    ]);
    return { items: rows.map(toSummary), total: counted[0]?.total ?? 0 };
  }

  /** The tenant's conversation, or null (missing and another tenant's alike). */
  async find(tenantId: string, conversationId: string): Promise<ConversationSummary | null> {
    const rows = await this.dataSource.query<SummaryRow[]>(`SELECT ${SUMMARY_COLUMNS} FROM conversations c WHERE c.id = $1 AND c.tenant_id = $2`, [conversationId, tenantId]);
    return rows.length > 0 ? toSummary(rows[0]) : null;
  }

  /**
   * Deletes the tenant's conversation and its messages; false, and nothing touched, when it is not
   * the tenant's. The messages go first by their own tenant column, then the conversation: both
   * statements match the tenant (the foreign key would cascade anyway). An exchange written after
   * this finds no conversation to continue and is refused (appendExchange, ExchangeWriter).
   */
  async delete(tenantId: string, conversationId: string): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      // The conversation row is locked first, so an exchange being written waits or is refused,
      // never adds messages to a conversation half deleted.
      const locked: unknown[] = await manager.query('SELECT 1 FROM conversations WHERE id = $1 AND tenant_id = $2 FOR UPDATE', [conversationId, tenantId]);
      if (locked.length === 0) return false;
      await manager.query('DELETE FROM messages WHERE conversation_id = $1 AND tenant_id = $2', [conversationId, tenantId]);
      await manager.query('DELETE FROM conversations WHERE id = $1 AND tenant_id = $2', [conversationId, tenantId]);
      return true;
    });
  }
}
