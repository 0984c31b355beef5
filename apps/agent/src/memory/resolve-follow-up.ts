import type { ConversationTurn } from './conversation-turn';
import { type WeightedText, contentWords, salientTerms } from './salient-terms';

/** What a question becomes in the light of the conversation before it. */
export interface FollowUpResolution {
  /** The question to search and answer with: the question itself, or enriched/rewritten to stand alone. */
  standalone: string;
  isFollowUp: boolean;
  /** Documents the previous answer cited, for retrieval to prefer (empty when not a follow-up). */
  preferredDocumentIds: string[];
  /** Why it was judged so, for the trace. */
  reason: string;
}

// Anaphors that point back whatever follows them ("does this apply", "those days", "they").
const STRONG_ANAPHORS = new Set(['this', 'these', 'those', 'they', 'them', 'their', 'theirs', 'such']);
// Anaphors that are often not ("is it possible", "is there a …", "his own"): they count in a
// question too short to name its own subject.
const WEAK_ANAPHORS = new Set(['it', 'its', 'itself', 'there', 'he', 'she', 'him', 'her', 'his', 'hers']);
const BE = new Set(['is', 'are', 'was', 'were', 'be', 'been', 'being', "there's", 'isn', 'aren']);
// A question opening like one of these continues the one before.
const CONTINUATION = /^(?:and|also|but|so|or|then|plus|what about|how about|what of|what else|anything else|tell me more|more about|more on|more details?|go on|continue|elaborate|explain (?:that|this|it|more|further)|how so|really|same for|in that case)(?![\p{L}\p{N}])/iu;
const CONTINUATION_ANYWHERE = /(?<![\p{L}\p{N}])(?:tell me more|say more|more about (?:it|that|this|them)|the same (?:for|as|goes)|as you (?:said|mentioned)|you (?:said|mentioned)|mentioned (?:above|before|earlier)|the (?:former|latter)|the (?:first|second|last) one)(?![\p{L}\p{N}])/iu;
const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu;

/** Content words a question needs of its own to count as standing alone despite a weak anaphor. */
const SELF_CONTAINED_TERMS = 4;
/** At most this many words, and the question is short enough to lean on what came before. */
const SHORT_QUESTION_WORDS = 3;
const ENRICHING_TERMS = 6;
/** What a word of the previous question weighs; a word its answer repeats weighs as much. */
const QUESTION_WEIGHT = 3;

/** Why the question depends on the history, or undefined when it stands alone. */
function dependence(question: string): string | undefined {
  const text = question.trim();
  const words = [...text.toLowerCase().matchAll(WORD)].map(([word]) => word.replace(/’/g, "'"));
  const own = contentWords(text);
  const continuation = CONTINUATION.exec(text) ?? CONTINUATION_ANYWHERE.exec(text);
  if (continuation) return `continues the previous turn ("${continuation[0].trim().toLowerCase()}")`;
  if (own.length === 0) return 'has no content terms of its own';
  for (const [index, word] of words.entries()) {
    const previous = words[index - 1];
    const next = words[index + 1];
    if (STRONG_ANAPHORS.has(word)) return `refers back ("${word}")`;
    // "that" after a noun opens a relative clause ("the policy that covers travel"); after a verb or
    // preposition it points back ("does that apply", "of that").
    if (word === 'that' && (previous === undefined || !contentWords(previous).length)) return `refers back ("that")`;
    if (WEAK_ANAPHORS.has(word) && own.length < SELF_CONTAINED_TERMS) {
      // "is there a …" / "there are …": existential, not a place.
      if (word === 'there' && ((previous !== undefined && BE.has(previous)) || (next !== undefined && BE.has(next)))) continue;
      return `refers back ("${word}")`;
    }
  }
  if (words.length <= SHORT_QUESTION_WORDS) return `is too short to stand alone (${words.length} words)`;
  return undefined;
}

/** The latest turns first, back to the first one with an answer worth taking terms from. */
function recentTurns(turns: readonly ConversationTurn[]): ConversationTurn[] {
  return [...turns].reverse().filter((turn) => turn.question.trim() || turn.answer.trim());
}

/**
 * Decides locally (no model) whether a question only makes sense after the conversation before
 * it — a pronoun or deictic pointing back ("How many days of it…", "Does that apply…"), a
 * continuation ("tell me more", "what about…", "and the…"), a very short question, one with no
 * content terms of its own — and if so makes it a standalone search query: the question plus the
 * previous turn's salient terms (the content words of its question, and those its answer repeats;
 * the turn before adds its own when the previous question names too little), and the documents the previous
 * answer cited as `preferredDocumentIds`. A question that stands alone is returned unchanged.
 */
export function resolveFollowUp(question: string, turns: readonly ConversationTurn[]): FollowUpResolution {
  const unchanged = (reason: string): FollowUpResolution => ({ standalone: question, isFollowUp: false, preferredDocumentIds: [], reason });
  const recent = recentTurns(turns);
  if (recent.length === 0) return unchanged('no earlier turn');
  const why = dependence(question);
  if (!why) return unchanged('stands alone');

  const [previous, before] = recent;
  const own = new Set(contentWords(question).map((word) => word.stem));
  // A word of the previous question always counts; a word of its answer only when the answer
  // repeats it (a passage quoted in an answer says much that is not its topic).
  const texts: WeightedText[] = [
    { text: previous.question, weight: QUESTION_WEIGHT },
    { text: previous.answer, weight: QUESTION_WEIGHT / 2, maxOccurrences: 2, skipNumbers: true },
  ];
  // "Tell me more" after "And for managers?": the previous question names little, the one before more.
  if (before && contentWords(previous.question).length < 2) {
    texts.push({ text: before.question, weight: QUESTION_WEIGHT }, { text: before.answer, weight: QUESTION_WEIGHT / 2, maxOccurrences: 2, skipNumbers: true });
  }
  let terms = salientTerms(texts, ENRICHING_TERMS, own, QUESTION_WEIGHT);
  if (terms.length === 0) terms = salientTerms(texts, ENRICHING_TERMS, own);
  const cited = recent.slice(0, 2).find((turn) => turn.citedDocumentIds.length > 0)?.citedDocumentIds ?? [];
  const standalone = terms.length > 0 ? `${question.trim()} ${terms.join(' ')}` : question;
  return {
    standalone,
    isFollowUp: true,
    preferredDocumentIds: [...cited],
    reason: `${why}: ${terms.length > 0 ? `enriched with "${terms.join(' ')}"` : 'nothing to enrich it with'}${cited.length > 0 ? `, preferring ${cited.length} cited document(s)` : ''}`,
  };
}
