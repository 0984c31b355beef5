import { splitIntoSentences, truncateAtWord } from '@quarry/llm';
import type { ConversationTurn } from './conversation-turn';
import { salientTerms } from './salient-terms';
import { type TokenCounter, countTokens } from './token-count';

/**
 * How a turn is kept: `verbatim` (question and answer as they were), `summary` (the question and the
 * answer's first sentence), `terms` (the question and the answer's salient words).
 */
export type TurnForm = 'verbatim' | 'summary' | 'terms';

export interface CompressedTurn extends ConversationTurn {
  form: TurnForm;
  /** What this turn costs in the prompt, in cl100k tokens (both messages and their overhead). */
  tokens: number;
}

export interface CompressedHistory {
  /** The turns kept, oldest first; the citations of every kept turn are kept whatever its form. */
  turns: CompressedTurn[];
  usedTokens: number;
  /** How many of the oldest turns did not fit at all. */
  dropped: number;
}

/** What a chat message costs beyond its text (role and separators, as OpenAI counts them). */
export const MESSAGE_OVERHEAD_TOKENS = 4;
/** Longest first sentence a summary keeps, in characters (one run-on "sentence" is cut). */
const SUMMARY_SENTENCE_CHARS = 240;
const TERMS_PER_SUMMARY = 8;

function cost(turn: Pick<ConversationTurn, 'question' | 'answer'>, count: TokenCounter): number {
  return count(turn.question) + count(turn.answer) + 2 * MESSAGE_OVERHEAD_TOKENS;
}

/** The turn in each form, longest first; a form that is no shorter than the one before is skipped. */
function formsOf(turn: ConversationTurn): Array<{ form: TurnForm; answer: string }> {
  const forms: Array<{ form: TurnForm; answer: string }> = [{ form: 'verbatim', answer: turn.answer }];
  const first = splitIntoSentences(turn.answer)[0];
  if (first !== undefined) {
    const summary = truncateAtWord(first, SUMMARY_SENTENCE_CHARS);
    if (summary.length < turn.answer.trim().length) forms.push({ form: 'summary', answer: summary });
  }
  const terms = salientTerms([{ text: turn.answer, weight: 1, maxOccurrences: 3 }], TERMS_PER_SUMMARY);
  if (terms.length > 0) forms.push({ form: 'terms', answer: `(about: ${terms.join(', ')})` });
  return forms;
}

/**
 * Fits a conversation into a token budget, the seed's TokenOptimizer without a summarising model:
 * the latest turns are kept verbatim while they fit; from the first one that does not, every older
 * turn takes the shortest form that still fits (its question and the answer's first sentence, or
 * its question and the answer's salient words); from the first turn even that does not fit, the
 * older ones are dropped — the history the prompt gets is always the latest stretch, with no gap.
 */
export function compressHistory(turns: readonly ConversationTurn[], budgetTokens: number, count: TokenCounter = countTokens): CompressedHistory {
  const kept: CompressedTurn[] = [];
  let used = 0;
  let verbatim = true;
  let index = turns.length - 1;
  for (; index >= 0; index--) {
    const turn = turns[index];
    const room = budgetTokens - used;
    let chosen: CompressedTurn | undefined;
    for (const { form, answer } of formsOf(turn)) {
      if (form === 'verbatim' && !verbatim) continue;
      const tokens = cost({ question: turn.question, answer }, count);
      if (tokens <= room) {
        chosen = { ...turn, answer, form, tokens };
        break;
      }
    }
    if (!chosen) break;
    if (chosen.form !== 'verbatim') verbatim = false;
    kept.unshift(chosen);
    used += chosen.tokens;
  }
  return { turns: kept, usedTokens: used, dropped: index + 1 };
}
