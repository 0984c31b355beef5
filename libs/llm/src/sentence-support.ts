import type { Citation, SentenceSupport } from '@quarry/contracts';
import { tokenize } from '@quarry/domain';
import { parseCitedPassageIndexes } from './citations';
import { splitIntoSentences } from './sentences';

/** A passage a sentence may cite: its citation number and its text (a citation's snippet will do). */
export interface SupportPassage {
  index: number;
  text: string;
}

export interface SentenceSupportOptions {
  /** Least share of a sentence's content terms a cited passage must hold to support it (default MIN_SUPPORT_SHARE). */
  minShare?: number;
}

/**
 * A cited passage supports a sentence when it holds at least half of the sentence's content terms
 * (stemmed, stop words and citation markers left out: the tokenizer the index uses). Half, because
 * an extractive sentence scores 1 and a faithful paraphrase keeps most of its nouns, numbers and
 * names (0.6-0.9 in practice), while a sentence that only shares the topic with its passage (the
 * question's words, one entity) stays below it; a sentence made of words of its own (a computed
 * figure, a model's invention) shares little with any passage and is marked unsupported.
 */
export const MIN_SUPPORT_SHARE = 0.5;

/**
 * Bracketed numbers above this are not read as citations ("[2019]" is a year): no answer offers
 * that many passages (topK is at most 50).
 */
export const MAX_CITATION_NUMBER = 100;

// The citation groups parseCitedPassageIndexes reads: [1], [1, 3], [2-4].
const CITATION_GROUP = /\[\s*\d+(?:\s*(?:[,;]|[-–])\s*\d+)*\s*\]/g;
const LEADING_CITATIONS = /^(?:\[\s*\d+(?:\s*(?:[,;]|[-–])\s*\d+)*\s*\]\s*)+/;
const CITABLE = Array.from({ length: MAX_CITATION_NUMBER }, (_, offset) => offset + 1);

/**
 * Each sentence of the answer, the citation numbers it carries, and the cited passage that
 * supports it best (the one holding the largest share of its content terms; the lowest number on a
 * tie), or null when no cited passage holds MIN_SUPPORT_SHARE of them — also when the sentence
 * cites nothing, cites only passages that were not offered, or has no content terms at all
 * ("Yes."): support that cannot be shown is not assumed.
 *
 * A citation written after the full stop ("… fell. [2] Costs …") belongs to the sentence before
 * it, not to the one it precedes.
 */
export function sentenceSupport(answer: string, passages: readonly SupportPassage[], options: SentenceSupportOptions = {}): SentenceSupport[] {
  const minShare = options.minShare ?? MIN_SUPPORT_SHARE;
  const termsOf = new Map<number, ReadonlySet<string>>();
  const passageTerms = (index: number): ReadonlySet<string> | undefined => {
    let terms = termsOf.get(index);
    if (!terms) {
      const passage = passages.find((candidate) => candidate.index === index);
      if (!passage) return undefined;
      terms = new Set(tokenize(passage.text));
      termsOf.set(index, terms);
    }
    return terms;
  };
  const citable = [...CITABLE, ...passages.map((passage) => passage.index)];

  return answerSentences(answer).map((text) => {
    const cited = parseCitedPassageIndexes(text, citable);
    const terms = new Set(tokenize(text.replace(CITATION_GROUP, ' ')));
    let supportedBy: number | null = null;
    let best = 0;
    if (terms.size > 0) {
      for (const index of cited) {
        const candidate = passageTerms(index);
        if (!candidate) continue;
        let shared = 0;
        for (const term of terms) if (candidate.has(term)) shared++;
        const share = shared / terms.size;
        if (share >= minShare && share > best) {
          best = share;
          supportedBy = index;
        }
      }
    }
    return { text, cited, supportedBy };
  });
}

/** The passages of an answer's citations (their snippets), for sentenceSupport. */
export function passagesOfCitations(citations: ReadonlyArray<Pick<Citation, 'index' | 'snippet'>>): SupportPassage[] {
  return citations.map((citation) => ({ index: citation.index, text: citation.snippet }));
}

/** The share of the sentences a cited passage supports (groundedness), 0 for an answer without sentences. */
export function supportedShare(sentences: readonly SentenceSupport[]): number {
  if (sentences.length === 0) return 0;
  return sentences.filter((sentence) => sentence.supportedBy !== null).length / sentences.length;
}

/** The answer's sentences, with citation markers that open a sentence moved to the end of the one before. */
function answerSentences(answer: string): string[] {
  const sentences: string[] = [];
  for (const sentence of splitIntoSentences(answer)) {
    const leading = LEADING_CITATIONS.exec(sentence)?.[0];
    if (leading && sentences.length > 0) {
      sentences[sentences.length - 1] = `${sentences[sentences.length - 1]} ${leading.trim()}`;
      const rest = sentence.slice(leading.length).trim();
      if (rest.length > 0) sentences.push(rest);
    } else {
      sentences.push(sentence);
    }
  }
  return sentences;
}
