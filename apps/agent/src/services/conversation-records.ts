import { ErrorCode } from '@quarry/contracts';
import { DomainError, outageOf } from '@quarry/domain';
import type { Logger } from '@quarry/observability';
import type { ConversationExchange, ConversationRepository } from '@quarry/persistence';
import type { DeferredWrites } from './deferred-writes';

/** The one answer for a conversation that is missing or another tenant's: the two look the same. */
export function conversationNotFound(conversationId: string): DomainError {
  return new DomainError(ErrorCode.NotFound, `conversation ${conversationId} not found`);
}

/**
 * The agent's side of conversations: a conversation a client continues must be its tenant's, and
 * every exchange is recorded — now, or once Postgres is back (see DeferredWrites).
 *
 * While Postgres is down the conversation cannot be checked, and the question is answered anyway:
 * the answer is made from the caller's own tenant's documents and never reads the conversation, so
 * answering tells nothing about a conversation of another tenant (a missing one is answered the
 * same way). The check then happens where it cannot be skipped: the deferred write claims the
 * conversation only within the tenant, and a write that would touch a conversation that is not the
 * tenant's writes nothing and is dropped (logged, and counted in quarry_deferred_writes_dropped_total).
 */
export class ConversationRecords {
  constructor(
    private readonly conversations: ConversationRepository,
    private readonly deferred: DeferredWrites,
    private readonly logger: Logger,
  ) {}

  /**
   * Throws NOT_FOUND unless the conversation is the tenant's. Not checked while Postgres is known
   * to be down (writes are waiting for it: a search never waits on Postgres, and neither does this)
   * or turns out to be unreachable; the deferred write checks it then.
   */
  async verify(tenantId: string, conversationId: string): Promise<void> {
    if (this.deferred.size > 0) return;
    let found: boolean;
    try {
      found = await this.conversations.exists(tenantId, conversationId);
    } catch (error) {
      if (!outageOf(error)) throw error;
      this.logger.warn('conversation not checked: the database is unavailable; its write will check it', { conversationId });
      return;
    }
    if (!found) throw conversationNotFound(conversationId);
  }

  /** Records the exchange, or holds it until Postgres is back (false). */
  record(exchange: ConversationExchange): Promise<boolean> {
    return this.deferred.writeOrDefer(`conversation ${exchange.conversationId} of tenant ${exchange.tenantId}`, async () => {
      if (!(await this.conversations.appendExchange(exchange))) throw conversationNotFound(exchange.conversationId);
    });
  }
}
