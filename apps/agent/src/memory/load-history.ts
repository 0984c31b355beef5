import type { HistoryMessage } from '@quarry/contracts';
import { type ConversationTurn, type StoredMessage, historyOfTurns, turnsFromMessages } from './conversation-turn';

/** What reading a conversation needs of the repository (ConversationRepository fits). */
export interface ConversationMessagesReader {
  /** The messages of the tenant's conversation, oldest first (none for another tenant's). */
  messages(tenantId: string, conversationId: string): Promise<StoredMessage[]>;
}

/** The tenant's conversation as turns, oldest first, each answer with the documents it cited. */
export async function loadTurns(repository: ConversationMessagesReader, tenantId: string, conversationId: string): Promise<ConversationTurn[]> {
  return turnsFromMessages(await repository.messages(tenantId, conversationId));
}

/** The tenant's conversation as chat history, oldest first (empty for another tenant's or a missing one). */
export async function loadHistory(repository: ConversationMessagesReader, tenantId: string, conversationId: string): Promise<HistoryMessage[]> {
  return historyOfTurns(await loadTurns(repository, tenantId, conversationId));
}
