import { isStopWord, stem } from '@quarry/domain';

// Words that carry no topic of their own in a question or a follow-up: question fillers the stop
// list keeps ("many", "tell") and the anaphors a follow-up uses instead of naming its subject.
const FILLER = new Set([
  'many', 'much', 'tell', 'know', 'explain', 'please', 'also', 'else', 'thing', 'things', 'stuff', 'give', 'mean', 'means',
  'like', 'get', 'got', 'one', 'ones', 'way', 'ways', 'kind', 'sort', 'lot', 'bit', 'detail', 'details', 'info', 'information',
  'regarding', 'thanks', 'thank', 'ok', 'okay', 'yes', 'no', 'maybe', 'well', 'actually', 'exactly', 'former', 'latter',
  'same', 'said', 'mentioned', 'above', 'previous', 'earlier', 'would', 'could', 'should', 'might', 'may', 'must', 'shall',
  'need', 'want', 'say', 'says', 'let', 'us', 'more', 'less', 'every', 'each', 'per', 'via', 'etc',
]);

// Runs of letters and digits, with inner apostrophes and hyphens ("year-end", "employee's").
const WORD = /[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu;
const DIGITS = /^\p{N}+$/u;

/** A content word of a text: its surface form as first written (lowercased) and its stem. */
export interface ContentWord {
  word: string;
  stem: string;
}

/**
 * The words of a text that name things: stop words, question fillers and anaphors left out, and
 * words of one letter. Stems (the retrieval tokenizer's Porter2) decide what counts as the same
 * word, so "vacation" and "vacations" are one; the surface form is what a search query gets.
 */
export function contentWords(text: string): ContentWord[] {
  const words: ContentWord[] = [];
  for (const [raw] of text.toLowerCase().normalize('NFC').matchAll(WORD)) {
    const word = raw.replace(/’/g, "'").replace(/'s$/, '');
    if (word.length < 2 && !DIGITS.test(word)) continue;
    if (isStopWord(word) || FILLER.has(word)) continue;
    words.push({ word, stem: /^[a-z']+$/.test(word) ? stem(word) : word });
  }
  return words;
}

export interface WeightedText {
  text: string;
  /** What one occurrence of a word in this text weighs. */
  weight: number;
  /** How many occurrences of one word count at most (a long answer repeating a word is not more about it). */
  maxOccurrences?: number;
  /** Leave out bare numbers (an answer's figures are facts, not its topic). */
  skipNumbers?: boolean;
}

/**
 * The most salient content words of weighted texts, heaviest first (ties: first seen first):
 * a word's weight is the sum of its occurrences' weights. Words whose stem is in `exclude` are
 * left out (the words a question already has), and so are words weighing less than `minScore`.
 */
export function salientTerms(texts: readonly WeightedText[], limit: number, exclude: ReadonlySet<string> = new Set(), minScore = 0): string[] {
  const scores = new Map<string, { word: string; score: number; order: number }>();
  let order = 0;
  for (const { text, weight, maxOccurrences = Number.POSITIVE_INFINITY, skipNumbers = false } of texts) {
    const counted = new Map<string, number>();
    for (const { word, stem: key } of contentWords(text)) {
      if (exclude.has(key) || (skipNumbers && DIGITS.test(word))) continue;
      const times = (counted.get(key) ?? 0) + 1;
      counted.set(key, times);
      if (times > maxOccurrences) continue;
      const entry = scores.get(key) ?? { word, score: 0, order: order++ };
      entry.score += weight;
      scores.set(key, entry);
    }
  }
  return [...scores.values()]
    .filter((entry) => entry.score >= minScore)
    .sort((a, b) => b.score - a.score || a.order - b.order)
    .slice(0, limit)
    .map((entry) => entry.word);
}
