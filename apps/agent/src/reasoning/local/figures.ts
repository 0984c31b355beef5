import { splitIntoSentences } from '@quarry/llm';
import { tokenize } from '@quarry/domain';

/** A number stated in a passage, with the sentence it was read from. */
export interface Figure {
  value: number;
  /** As written ("1,250", "$3.4 million", "12%"). */
  text: string;
  sentence: string;
}

// 1,250 | 1250.5 | 3.4 million | $12k | 12% — optional currency sign, thousands groups, a scale word.
const NUMBER = /(?<![\p{L}\p{N}.])([$€£]\s?)?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s?(%|percent\b|thousand\b|million\b|billion\b|trillion\b|[kKmMbB]n?\b)?/gu;
const SCALE: Record<string, number> = { thousand: 1e3, k: 1e3, million: 1e6, m: 1e6, mn: 1e6, billion: 1e9, b: 1e9, bn: 1e9, trillion: 1e12 };
// A bare four-digit number from 1900 to 2099 is most likely a year, not a figure.
const YEAR = /^(?:19|20)\d{2}$/;

/** The numbers a text states, in order (years left out unless they carry a unit). */
export function figuresIn(sentence: string): Figure[] {
  const figures: Figure[] = [];
  for (const match of sentence.matchAll(NUMBER)) {
    const [text, currency, whole, fraction, unit] = match;
    if (!currency && !unit && !fraction && YEAR.test(whole)) continue;
    let value = Number(whole.replaceAll(',', '') + (fraction ?? ''));
    const scale = unit ? SCALE[unit.toLowerCase()] : undefined;
    if (scale) value *= scale;
    if (Number.isFinite(value)) figures.push({ value, text: text.trim(), sentence });
  }
  return figures;
}

/**
 * The figure a set of passages (best first) gives for an entity's measure: the first number of the
 * sentence that names the entity, shares most terms with the measure and comes from the best-ranked
 * passage, in that order of importance; a sentence naming neither is never used.
 */
export function findFigure(passages: ReadonlyArray<{ text: string }>, entity: string, measure: string | undefined): Figure | undefined {
  const entityTerms = tokenize(entity);
  const measureTerms = new Set(tokenize(measure ?? ''));
  let best: { figure: Figure; score: number } | undefined;
  for (const [rank, passage] of passages.entries()) {
    for (const sentence of splitIntoSentences(passage.text)) {
      const figures = figuresIn(sentence);
      if (figures.length === 0) continue;
      const terms = new Set(tokenize(sentence));
      const namesEntity = entityTerms.length > 0 && entityTerms.every((term) => terms.has(term));
      const measureHits = [...measureTerms].filter((term) => terms.has(term)).length;
      // A sentence that names neither the entity nor the measure is no evidence of the entity's figure.
      if (!namesEntity && measureHits === 0) continue;
      // Naming the entity matters most, then the measure, then the passage's rank.
      const score = (namesEntity ? 100 : 0) + measureHits * 10 - rank;
      if (!best || score > best.score) best = { figure: figures[0], score };
    }
  }
  return best?.figure;
}
