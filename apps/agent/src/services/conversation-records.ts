import { ErrorCode } from '@quarry/contracts';
import { DomainError, outageOf } from '@quarry/domain';
import type { Logger } from '@quarry/observability';
import type { ConversationRepository, ExchangeRecord } from '@quarry/persistence';
import type { DeferredWrites } from './deferred-writes';
import type { ExchangeLog } from './exchange-log';
import { type ConversationTurn, loadTurns, turnsFromMessages } from '../memory';

/** The one answer for a conversation that is missing or another tenant's: the two look the same. */
export function conversationNotFound(conversationId: string): DomainError {
  return new DomainError(ErrorCode.NotFound, `conversation ${conversationId} not found`);
}

export interface ConversationRecordsOptions {
  /**
   * A conversation not found is looked for once more after this long before NOT_FOUND: another
   * agent replica may have answered its first question a moment ago and not written it yet (its
   * write follows its reply by up to its write interval). Missing and foreign conversations wait
   * alike, so the wait tells nothing about which it is.
   */
  recheckMs: number;
}

/**
 * The agent's side of conversations: a conversation a client continues must be its tenant's, and
 * every exchange is recorded — behind the reply, through the write-behind ExchangeLog, or once
 * Postgres is back (see DeferredWrites).
 *
 * Read-your-writes: a conversation whose first exchange this process has not written yet is known
 * from the ExchangeLog, so a client that continues it at once is not told NOT_FOUND.
 *
 * While Postgres is down the conversation cannot be checked, and the question is answered anyway:
 * the answer is made from the caller's own tenant's documents and never reads the conversation, so
 * answering tells nothing about a conversation of another tenant (a missing one is answered the
 * same way). The check then happens where it cannot be skipped: the write claims the conversation
 * only within the tenant, and an exchange that would touch a conversation that is not the tenant's
 * writes nothing and is dropped (logged, and counted in quarry_deferred_writes_dropped_total).
 */
export class ConversationRecords {
  constructor(
    private readonly conversations: ConversationRepository,
    private readonly deferred: DeferredWrites,
    private readonly log: ExchangeLog,
    private readonly logger: Logger,
    private readonly options: ConversationRecordsOptions = { recheckMs: 150 },
  ) {}

  /**
   * Throws NOT_FOUND unless the conversation is the tenant's. Not checked while Postgres is known
   * to be down (writes are waiting for it: a search never waits on Postgres, and neither does this)
   * or turns out to be unreachable; the write checks it then.
   */
  async verify(tenantId: string, conversationId: string): Promise<void> {
    if (this.known(tenantId, conversationId) ?? (await this.stored(tenantId, conversationId))) return;
    await new Promise((resolve) => setTimeout(resolve, this.options.recheckMs));
    if (this.known(tenantId, conversationId) ?? (await this.stored(tenantId, conversationId))) return;
    throw conversationNotFound(conversationId);
  }

  /**
   * The tenant's conversation as turns, oldest first: the stored messages, then the exchanges this
   * process has not written yet (a follow-up asked right after its answer still sees it). Empty
   * for another tenant's conversation; while Postgres is unreachable, only the unwritten ones.
   */
  async turns(tenantId: string, conversationId: string): Promise<ConversationTurn[]> {
    let stored: ConversationTurn[] = [];
    try {
      stored = await loadTurns(this.conversations, tenantId, conversationId);
    } catch (error) {
      if (!outageOf(error)) throw error;
      this.logger.warn('conversation history not read: the database is unavailable; answering without it', { conversationId });
    }
    const unwritten = turnsFromMessages(
      this.log.unwrittenExchangesOf(tenantId, conversationId).flatMap((exchange) => [
        { role: 'user' as const, content: exchange.question, citations: [] },
        { role: 'assistant' as const, content: exchange.answer, citations: exchange.citations },
      ]),
    );
    return [...stored, ...unwritten];
  }

  /** Buffers the exchange (its query-log row and its trace, when it has one) to be written behind the reply, in one transaction. */
  record(record: ExchangeRecord): void {
    this.log.record(record);
  }

  /** What this process knows without Postgres: true (the tenant's, not written yet), false (another tenant's), undefined. */
  private known(tenantId: string, conversationId: string): boolean | undefined {
    const owner = this.log.unwrittenTenantOf(conversationId);
    return owner === undefined ? undefined : owner === tenantId;
  }

  /** Whether Postgres has it as the tenant's; true when it cannot be asked (the write checks then). */
  private async stored(tenantId: string, conversationId: string): Promise<boolean> {
    if (this.deferred.size > 0) return true;
    try {
      return await this.conversations.exists(tenantId, conversationId);
    } catch (error) {
      if (!outageOf(error)) throw error;
      this.logger.warn('conversation not checked: the database is unavailable; its write will check it', { conversationId });
      return true;
    }
  }
}
