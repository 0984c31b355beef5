import { traceModelCall } from '@quarry/observability';
import { UNTRUSTED_DATA_RULE, quoteAsData } from '@quarry/llm';
import type OpenAI from 'openai';
import { compressHistory } from './compress-history';
import type { ConversationTurn } from './conversation-turn';
import { type FollowUpResolution, resolveFollowUp } from './resolve-follow-up';

export const FOLLOW_UP_REWRITE_SYSTEM_PROMPT = [
  'You help a search engine answer questions asked in a conversation.',
  'Rewrite the latest question so that it can be understood without the conversation: replace pronouns and references',
  '("it", "that", "they", "the first one") by what they refer to, and add the subject the question leaves implicit.',
  'Keep the meaning and the language of the question; do not answer it. If it already stands alone, repeat it unchanged.',
  'Reply with the rewritten question only, on one line.',
  UNTRUSTED_DATA_RULE,
].join('\n');

export interface ModelFollowUpOptions {
  /** Tokens of conversation the prompt may carry (older turns compressed, then dropped); default 1500. */
  historyBudgetTokens?: number;
  /** Told of a failed model call before the local resolution is used (for the logs and the trace). */
  onError?: (error: unknown) => void;
}

/** The retrieval contract's limit for a query. */
const MAX_QUESTION_CHARS = 4000;
const DEFAULT_HISTORY_BUDGET = 1500;

/** The model's reply as one question: the first non-empty line, labels and quotes stripped; undefined when nothing is left. */
export function parseRewrittenQuestion(content: string): string | undefined {
  const line = content
    .split('\n')
    .map((text) => text.trim())
    .find((text) => text.length > 0);
  if (!line) return undefined;
  const question = line
    .replace(/^(?:\*\*)?(?:standalone|rewritten)?\s*(?:question|query)\s*:(?:\*\*)?\s*/i, '')
    .replace(/^["“'`]+|["”'`]+$/g, '')
    .trim()
    .slice(0, MAX_QUESTION_CHARS);
  return question.length > 0 ? question : undefined;
}

function normalise(text: string): string {
  return text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
}

/** The conversation as quoted data (its answers hold document text, which may say anything). */
function conversationBlock(turns: readonly ConversationTurn[], budgetTokens: number): string {
  const { turns: kept } = compressHistory(turns, budgetTokens);
  return kept
    .map((turn, index) =>
      [
        quoteAsData('data', { turn: index + 1, role: 'user' }, turn.question),
        quoteAsData('data', { turn: index + 1, role: 'assistant', ...(turn.citedFilenames.length ? { sources: turn.citedFilenames.join(', ') } : {}) }, turn.answer),
      ].join('\n'),
    )
    .join('\n');
}

/**
 * The model path of follow-up resolution: the chat model rewrites the question into a standalone
 * one from the conversation (compressed to a budget, quoted as data). A question the model changes
 * is a follow-up and prefers the documents the previous answers cited, as the local resolution
 * does. No earlier turn: no model call. Any failure — the endpoint down or slow, an empty reply —
 * falls back to the local resolution (resolveFollowUp), with the failure in its reason.
 */
export async function rewriteFollowUpWithModel(
  client: OpenAI,
  model: string,
  question: string,
  turns: readonly ConversationTurn[],
  signal?: AbortSignal,
  options: ModelFollowUpOptions = {},
): Promise<FollowUpResolution> {
  const local = () => resolveFollowUp(question, turns);
  if (!turns.some((turn) => turn.question.trim() || turn.answer.trim())) return local();
  let content: string;
  try {
    const completion = await traceModelCall({ operation: 'chat', model, baseUrl: client.baseURL, purpose: 'resolve-follow-up' }, () => client.chat.completions.create(
      {
        model,
        messages: [
          { role: 'system', content: FOLLOW_UP_REWRITE_SYSTEM_PROMPT },
          {
            role: 'user',
            content: `The conversation so far:\n${conversationBlock(turns, options.historyBudgetTokens ?? DEFAULT_HISTORY_BUDGET)}\n\nThe latest question:\n${quoteAsData('data', { role: 'user', latest: 'true' }, question)}`,
          },
        ],
        temperature: 0,
        max_tokens: 200,
        stream: false,
      },
      { signal },
    ));
    content = completion.choices[0]?.message.content ?? '';
  } catch (error) {
    options.onError?.(error);
    const fallback = local();
    return { ...fallback, reason: `model "${model}" failed (${(error as Error).name}), resolved locally: ${fallback.reason}` };
  }
  const rewritten = parseRewrittenQuestion(content);
  if (!rewritten) {
    const fallback = local();
    return { ...fallback, reason: `model "${model}" gave no question, resolved locally: ${fallback.reason}` };
  }
  if (normalise(rewritten) === normalise(question)) return { standalone: question, isFollowUp: false, preferredDocumentIds: [], reason: `model "${model}": stands alone` };
  const cited = [...turns].reverse().slice(0, 2).find((turn) => turn.citedDocumentIds.length > 0)?.citedDocumentIds ?? [];
  return { standalone: rewritten, isFollowUp: true, preferredDocumentIds: [...cited], reason: `rewritten by model "${model}"` };
}
