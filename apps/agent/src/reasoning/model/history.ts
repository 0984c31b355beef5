import type { HistoryMessage } from '@quarry/contracts';
import type OpenAI from 'openai';

/** The conversation so far as chat messages, so a follow-up ("and the other one?") is read in its light. */
export function historyMessages(history: HistoryMessage[]): OpenAI.ChatCompletionMessageParam[] {
  return history.map((message) => ({ role: message.role, content: message.content }));
}
