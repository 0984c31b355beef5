import type { AnswerQuestionRequest, HistoryMessage } from '@quarry/contracts';
import type OpenAI from 'openai';
import { type ConversationTurn, compressHistory, historyOfTurns, resolveFollowUp, rewriteFollowUpWithModel, turnsFromHistory } from '../memory';
import type { FollowUpResolution } from '../memory';

/** What the question is, in the light of the conversation before it. */
export interface QuestionInContext extends FollowUpResolution {
  /** The conversation, compressed to the history budget, oldest first (what model judgements see). */
  history: HistoryMessage[];
}

export interface ConversationContextOptions {
  /** Reads the tenant's stored conversation as turns (including exchanges not written yet). */
  turnsOf: (tenantId: string, conversationId: string) => Promise<ConversationTurn[]>;
  historyBudgetTokens: number;
  /** The chat model that rewrites follow-ups into standalone questions; the local rules without it. */
  model?: { client: OpenAI; name: string; onError: (error: unknown) => void };
}

/**
 * Turns a question and its conversation into what the agent searches: a follow-up ("how many days
 * of it carry over?") becomes a standalone question — rewritten by the model when one is
 * configured, else enriched with the previous turn's salient terms — and prefers the documents the
 * previous answer cited. The history is the client's (the OpenAI-compatible API sends its messages)
 * or the stored conversation's, compressed to a token budget.
 */
export class ConversationContext {
  constructor(private readonly options: ConversationContextOptions) {}

  async resolve(request: Pick<AnswerQuestionRequest, 'tenantId' | 'question' | 'conversationId' | 'history'>, signal: AbortSignal): Promise<QuestionInContext> {
    const turns = request.history
      ? turnsFromHistory(request.history)
      : request.conversationId
        ? await this.options.turnsOf(request.tenantId, request.conversationId)
        : [];
    if (turns.length === 0) return { standalone: request.question, isFollowUp: false, preferredDocumentIds: [], reason: 'no earlier turns', history: [] };
    const kept = compressHistory(turns, this.options.historyBudgetTokens).turns;
    const model = this.options.model;
    const resolution = model
      ? await rewriteFollowUpWithModel(model.client, model.name, request.question, kept, signal, { historyBudgetTokens: this.options.historyBudgetTokens, onError: model.onError })
      : resolveFollowUp(request.question, kept);
    return { ...resolution, history: historyOfTurns(kept) };
  }
}
