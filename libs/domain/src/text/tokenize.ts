import { stem } from './stem';
import { isStopWord } from './stop-words';

/*
 * One tokenizer for both indexed chunks and queries: terms only ever match when both sides went
 * through exactly the same steps, so any change here means re-indexing.
 *
 * 1. Normalise: lowercase; compatibility forms folded (NFKD: "ﬁ" → "fi", full-width → ASCII);
 *    diacritics stripped from Latin letters only ("café" ≈ "cafe", "naïve" ≈ "naive") — in other
 *    scripts combining marks are part of the spelling (Devanagari vowel signs), so they stay.
 * 2. Words are runs of letters, marks and digits. Inside a word we allow
 *    - apostrophes ("don't", "user's"): the stop list knows contractions and Porter2 strips the
 *      possessive, then leftover apostrophes are dropped ("o'neill" → "oneil");
 *    - digit groups joined by "." or a thousands "," ("3.14", "v1.2.3", "10,000" → "10000"), since a
 *      version or amount split in pieces matches unrelated numbers;
 *    - compound joiners "-" and "_" ("covid-19", "e-mail", "snake_case"). For these we emit every
 *      part AND the joined form: "covid-19" → covid, 19, covid19. Parts keep recall ("covid" finds
 *      "covid-19", "e-mail" finds "mail"), the joined form matches the other common spelling
 *      ("covid19", "email") and, being rarer, gives exact compound matches a higher BM25 score.
 * 3. Stop words are removed, Latin words are Porter2-stemmed ("running", "runs" → "run"). Words
 *    with digits or in other scripts are kept as they are (stemming rules are English-only).
 * 4. Scripts written without spaces (Chinese, Japanese, Thai, …) would come out as one huge
 *    "word", so runs of them become overlapping character bigrams ("機械学習" → 機械 械学 学習),
 *    the usual dictionary-free approach; a lone character stays a unigram.
 * 5. 1-character tokens are dropped unless they are a digit; tokens over 64 chars are dropped too
 *    (hashes, base64, URLs glued together): they bloat the index and nobody types them.
 */

const WORD =
  /[\p{L}\p{M}\p{N}]+(?:['_\-\u2010\u2011][\p{L}\p{M}\p{N}]+|(?<=\p{N})(?:\.\p{N}+|,\p{N}{3}(?!\p{N})))*/gu;
const COMPOUND_JOINER = /[_\-\u2010\u2011]/;
const UNSEGMENTED_SCRIPT =
  /[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Thai}\p{scx=Lao}\p{scx=Khmer}\p{scx=Myanmar}]/u;
const SCRIPT_RUNS =
  /[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Thai}\p{scx=Lao}\p{scx=Khmer}\p{scx=Myanmar}]+|[^\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Thai}\p{scx=Lao}\p{scx=Khmer}\p{scx=Myanmar}]+/gu;
const STEMMABLE = /^[a-z']+$/;
const NON_ASCII = /[\u0080-\uffff]/; // without the u flag, astral characters show up as surrogates in this range
const LATIN_DIACRITICS = /(?<=\p{sc=Latin})\p{M}+/gu;
const TYPOGRAPHIC_APOSTROPHES = /[\u2019\u02bc]/g;
const SOFT_HYPHEN = /\u00ad/g;
const SINGLE_DIGIT = /^\p{Nd}$/u;
const MAX_TOKEN_LENGTH = 64;

/** Index/query terms of a text, in order of appearance (duplicates kept: they are term frequencies). */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  for (const [word] of normalise(text).matchAll(WORD)) {
    if (!COMPOUND_JOINER.test(word)) {
      addWord(word, tokens);
      continue;
    }
    const parts = word.split(COMPOUND_JOINER);
    for (const part of parts) addWord(part, tokens);
    addWord(parts.join(''), tokens);
  }
  return tokens;
}

/** How often each term occurs. */
export function termFrequencies(tokens: Iterable<string>): Map<string, number> {
  const frequencies = new Map<string, number>();
  for (const token of tokens) frequencies.set(token, (frequencies.get(token) ?? 0) + 1);
  return frequencies;
}

function normalise(text: string): string {
  const lowered = text.toLowerCase();
  // Most chunks are plain ASCII: skip the three Unicode passes for them.
  if (!NON_ASCII.test(lowered)) return lowered;
  return lowered
    .normalize('NFKD')
    .replace(LATIN_DIACRITICS, '')
    .normalize('NFC')
    .replace(TYPOGRAPHIC_APOSTROPHES, "'")
    .replace(SOFT_HYPHEN, '');
}

function addWord(word: string, tokens: string[]): void {
  if (UNSEGMENTED_SCRIPT.test(word)) {
    addMixedScriptWord(word, tokens);
    return;
  }
  if (isStopWord(word)) return;
  let term = STEMMABLE.test(word) ? stem(word) : word;
  if (term.includes("'")) term = term.replaceAll("'", '');
  if (term.includes(',')) term = term.replaceAll(',', '');
  if (isWorthIndexing(term)) tokens.push(term);
}

/** "iphone手机" → iphone, 手机: spaced-script parts go the normal way, the others become bigrams. */
function addMixedScriptWord(word: string, tokens: string[]): void {
  for (const [run] of word.matchAll(SCRIPT_RUNS)) {
    if (!UNSEGMENTED_SCRIPT.test(run)) {
      addWord(run, tokens);
      continue;
    }
    const characters = Array.from(run); // code points, so astral Han characters stay whole
    if (characters.length === 1) {
      tokens.push(characters[0]);
      continue;
    }
    for (let i = 0; i + 1 < characters.length; i++) tokens.push(characters[i] + characters[i + 1]);
  }
}

function isWorthIndexing(term: string): boolean {
  if (term.length > MAX_TOKEN_LENGTH) return false;
  return term.length > 1 || SINGLE_DIGIT.test(term);
}
