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
}
