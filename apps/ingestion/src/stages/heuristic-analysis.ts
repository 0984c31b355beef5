import { ENGLISH_STOP_WORDS } from '@quarry/domain';
import type { ParsedSection } from '../parsing/parsed-document';

export interface HeuristicAnalysis {
  language: string;
  characters: number;
  words: number;
  sections: number;
  headings: number;
  pages?: number;
  readingMinutes: number;
  structure: 'structured' | 'flat';
  chunkingRecommendation: { strategy: 'by-heading' | 'by-paragraph'; reason: string };
}

const WORD = /\p{L}[\p{L}\p{M}'’-]*/gu;

/**
 * Document analysis without a model: language by script and stop-word share, size, structure and a
 * chunking recommendation. Fast enough to run inside the parse step for every document.
 */
export function analyzeHeuristically(format: string, sections: ParsedSection[]): HeuristicAnalysis {
  const text = sections.map((section) => section.text).join('\n\n');
  const words = text.match(WORD) ?? [];
  const headings = new Set(sections.flatMap((section) => section.headingPath ?? [])).size + (text.match(/^#{1,6}\s/gm)?.length ?? 0);
  const pages = sections.reduce((max, section) => Math.max(max, section.page ?? 0), 0);
  const structured = headings >= 2;
  return {
    language: detectLanguage(text, words),
    characters: text.length,
    words: words.length,
    sections: sections.length,
    headings,
    ...(pages > 0 ? { pages } : {}),
    readingMinutes: Math.max(1, Math.round(words.length / 230)),
    structure: structured ? 'structured' : 'flat',
    chunkingRecommendation: structured
      ? { strategy: 'by-heading', reason: `${headings} headings give natural boundaries (${format})` }
      : { strategy: 'by-paragraph', reason: 'few or no headings; paragraphs and sentences are the boundaries' },
  };
}

function detectLanguage(text: string, words: string[]): string {
  const letters = text.replace(/[^\p{L}]/gu, '');
  if (letters.length === 0) return 'und';
  const share = (pattern: RegExp) => (letters.match(pattern)?.length ?? 0) / letters.length;
  if (share(/[\p{Script=Hiragana}\p{Script=Katakana}]/gu) > 0.1) return 'ja';
  if (share(/\p{Script=Han}/gu) > 0.3) return 'zh';
  if (share(/\p{Script=Hangul}/gu) > 0.3) return 'ko';
  if (share(/\p{Script=Cyrillic}/gu) > 0.3) return 'ru';
  if (share(/\p{Script=Arabic}/gu) > 0.3) return 'ar';
  const sample = words.slice(0, 2000).map((word) => word.toLowerCase());
  const english = sample.filter((word) => ENGLISH_STOP_WORDS.has(word)).length / Math.max(sample.length, 1);
  return english > 0.15 ? 'en' : 'und';
}
