import { tokenize } from '@quarry/domain';
import { LRUCache } from 'lru-cache';
import type { AnswerGenerator, GeneratedAnswer, Passage } from './answer-generator.port';
import { fnv1a } from './context/near-duplicates';
import { NO_ANSWER_TEXT } from './no-answer';
import { splitIntoSentences, truncateAtWord } from './sentences';

export const EXTRACTIVE_MODEL_NAME = 'local-extractive-v1';

const MAX_SENTENCES = 3;
const MAX_SENTENCE_LENGTH = 300;
const MAX_ANSWER_LENGTH = 700;
// A supporting sentence must score at least this share of the best one, or it dilutes the answer.
const MIN_RELATIVE_SCORE = 0.5;
// Sentences sharing this share of their terms with an already chosen one say the same thing
// (typically the overlap region of neighbouring chunks).
const MAX_TERM_OVERLAP = 0.6;
// Sentences shorter than this many terms (headings, labels) are damped: they repeat the question's
// words without answering it.
const FULL_LENGTH_TERMS = 6;
// Per position in the retrieval ranking; retrieval already judged the whole passage, so it breaks ties.
const RANK_DECAY = 0.1;
// Up to this many words (with their trailing whitespace) per streamed piece.
const STREAM_PIECE = /(?:\S+\s*){1,6}/g;

/** Passages whose sentences and terms are remembered between answers (by chunk id), by default. */
export const DEFAULT_ANALYSED_PASSAGES = 4096;

/** A passage's sentences and terms: what answering needs of it that does not depend on the question. */
interface AnalysedPassage {
  length: number;
  hash: number;
  terms: ReadonlySet<string>;
  sentences: ReadonlyArray<{ text: string; terms: ReadonlySet<string>; termCount: number }>;
}

interface Candidate {
  passageIndex: number;
  text: string;
  terms: ReadonlySet<string>;
  score: number;
  order: number;
}

/**
 * The default generator, with no model: it answers by quoting the passage sentences that best match
 * the question, each cited with `[n]`. Sentences are scored by the idf-weighted share of the
 * question's terms they contain (idf over the given passages, so a term found everywhere counts
 * little), damped for very short sentences and for lower-ranked passages. Honest when nothing matches.
 */
export class ExtractiveAnswerGenerator implements AnswerGenerator {
  readonly model = EXTRACTIVE_MODEL_NAME;
  // Splitting and tokenizing the same chunks again on every question was most of answering's cost.
  private readonly analyses: LRUCache<string, AnalysedPassage>;

  constructor(options: { analysedPassages?: number } = {}) {
    this.analyses = new LRUCache({ max: options.analysedPassages ?? DEFAULT_ANALYSED_PASSAGES });
  }

  generate(question: string, passages: Passage[], signal?: AbortSignal): Promise<GeneratedAnswer> {
    // The executor turns an abort (thrown by throwIfAborted) into a rejection.
    return new Promise((resolve) => {
      signal?.throwIfAborted();
      resolve(this.answer(question, passages));
    });
  }

  async *stream(question: string, passages: Passage[], signal?: AbortSignal): AsyncIterable<string> {
    // Exactly the text of `generate`, in word groups, delivered the way a model would stream it.
    const { answer } = await this.generate(question, passages, signal);
    for (const piece of answer.match(STREAM_PIECE) ?? [answer]) {
      signal?.throwIfAborted();
      yield piece;
    }
  }

  private answer(question: string, passages: Passage[]): GeneratedAnswer {
    const chosen = chooseSentences(question, passages, (passage) => this.analysed(passage));
    if (chosen.length === 0) return { answer: NO_ANSWER_TEXT, citedPassageIndexes: [], model: this.model };
    return {
      answer: chosen.map(citeSentence).join(' '),
      citedPassageIndexes: [...new Set(chosen.map((candidate) => candidate.passageIndex))].sort((a, b) => a - b),
      model: this.model,
    };
  }

  /** The passage's sentences and terms, computed once per chunk text (checked by length and hash). */
  private analysed(passage: Passage): AnalysedPassage {
    const hash = fnv1a(passage.text);
    const known = this.analyses.get(passage.chunkId);
    if (known && known.length === passage.text.length && known.hash === hash) return known;
    const analysed: AnalysedPassage = {
      length: passage.text.length,
      hash,
      terms: new Set(tokenize(passage.text)),
      sentences: splitIntoSentences(passage.text).map((sentence) => {
        const terms = tokenize(sentence);
        return { text: truncateAtWord(sentence, MAX_SENTENCE_LENGTH), terms: new Set(terms), termCount: terms.length };
      }),
    };
    this.analyses.set(passage.chunkId, analysed);
    return analysed;
  }
}

function chooseSentences(question: string, passages: Passage[], analyse: (passage: Passage) => AnalysedPassage): Candidate[] {
  const questionTerms = [...new Set(tokenize(question))];
  if (questionTerms.length === 0 || passages.length === 0) return [];
  const analyses = passages.map(analyse);
  const idf = inverseDocumentFrequencies(questionTerms, analyses);
  const totalWeight = questionTerms.reduce((sum, term) => sum + idf(term), 0);

  let order = 0;
  const candidates: Candidate[] = passages.flatMap((passage, rank) =>
    analyses[rank].sentences.map((sentence) => {
      const matchedWeight = questionTerms.reduce((sum, term) => sum + (sentence.terms.has(term) ? idf(term) : 0), 0);
      const lengthFactor = Math.sqrt(Math.min(1, sentence.termCount / FULL_LENGTH_TERMS));
      const score = (matchedWeight / totalWeight) * lengthFactor * (1 / (1 + RANK_DECAY * rank));
      return { passageIndex: passage.index, text: sentence.text, terms: sentence.terms, score, order: order++ };
    }),
  );

  const ranked = candidates.filter((candidate) => candidate.score > 0).sort((a, b) => b.score - a.score || a.order - b.order);
  const chosen: Candidate[] = [];
  let length = 0;
  for (const candidate of ranked) {
    if (chosen.length === MAX_SENTENCES) break;
    if (chosen.length > 0 && candidate.score < chosen[0].score * MIN_RELATIVE_SCORE) break;
    if (chosen.some((picked) => termOverlap(picked.terms, candidate.terms) >= MAX_TERM_OVERLAP)) continue;
    if (chosen.length > 0 && length + candidate.text.length > MAX_ANSWER_LENGTH) continue;
    chosen.push(candidate);
    length += candidate.text.length;
  }
  return chosen;
}

/** BM25's idf, which stays positive even for a term present in every passage. */
function inverseDocumentFrequencies(terms: string[], passages: ReadonlyArray<{ terms: ReadonlySet<string> }>): (term: string) => number {
  const passageTerms = passages.map((passage) => passage.terms);
  const idfByTerm = new Map(
    terms.map((term) => {
      const documentFrequency = passageTerms.filter((termsOfPassage) => termsOfPassage.has(term)).length;
      return [term, Math.log(1 + (passages.length - documentFrequency + 0.5) / (documentFrequency + 0.5))];
    }),
  );
  return (term) => idfByTerm.get(term) ?? 0;
}

/** Share of the smaller sentence's terms that the other one also has. */
function termOverlap(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  const smaller = a.size <= b.size ? a : b;
  const larger = smaller === a ? b : a;
  if (smaller.size === 0) return 1;
  let shared = 0;
  for (const term of smaller) if (larger.has(term)) shared++;
  return shared / smaller.size;
}

/** Places the marker before the closing punctuation, as in "… within 14 days [2]." */
function citeSentence(candidate: Candidate): string {
  const marker = `[${candidate.passageIndex}]`;
  const ending = /[.!?]+["')\]]*$/.exec(candidate.text);
  if (!ending) return `${candidate.text} ${marker}.`;
  return `${candidate.text.slice(0, ending.index).trimEnd()} ${marker}${ending[0]}`;
}
