import type { Tiktoken } from 'tiktoken';
import { get_encoding } from 'tiktoken';
import type { Passage } from '../answer-generator.port';
import { jaccardOfSorted } from './near-duplicates';
import { DEFAULT_MEASURED_PASSAGES, PassageMeasures } from './passage-measures';

export type PackingStrategy = 'relevance' | 'diversity' | 'both';

export interface PackingOptions {
  /** Tokens (cl100k) the passages may take together. */
  budgetTokens: number;
  /**
   * relevance: best score first; diversity: maximal marginal relevance over shingle overlap, so the
   * budget is not spent on passages that repeat each other; both: MMR with a relevance-leaning
   * balance (lambda 0.7).
   */
  strategy: PackingStrategy;
  /** Passages at least this similar (shingle Jaccard) to one already packed are dropped. */
  duplicateThreshold?: number;
  /** A passage is cut (on a token boundary) rather than dropped when at least this many tokens fit. */
  minTokensToTruncate?: number;
}

export interface PackedContext {
  passages: Passage[];
  usedTokens: number;
  droppedAsDuplicates: number;
  truncated: number;
}

const LAMBDA: Record<PackingStrategy, number> = { relevance: 1, diversity: 0.5, both: 0.7 };

export interface ContextPackerOptions {
  /** Passages whose token count and shingles are remembered (by chunk id) between calls; see PassageMeasures. */
  measuredPassages?: number;
}

interface Candidate {
  passage: Passage;
  tokens: number;
  shingles: Uint32Array;
}

/**
 * Fits retrieved passages into a token budget (the seeds' TokenOptimizer): orders them by relevance,
 * diversity or both, drops near-duplicates, and truncates the last one that does not fit on a token
 * boundary instead of mid-character. Citation numbers are re-assigned 1..n in packed order.
 * A passage's token count and shingles are computed once per chunk and remembered (PassageMeasures):
 * the same chunks come back query after query, and measuring them was most of the packing cost.
 */
export class ContextPacker {
  private readonly encoding: Tiktoken = get_encoding('cl100k_base');
  readonly measures: PassageMeasures;

  constructor(options: ContextPackerOptions = {}) {
    this.measures = new PassageMeasures((text) => this.encoding.encode_ordinary(text).length, options.measuredPassages ?? DEFAULT_MEASURED_PASSAGES);
  }

  pack(passages: readonly Passage[], options: PackingOptions): PackedContext {
    const threshold = options.duplicateThreshold ?? 0.8;
    const minTokens = options.minTokensToTruncate ?? 32;
    const candidates: Candidate[] = passages.map((passage) => ({ passage, ...this.measures.of(passage.chunkId, passage.text) }));
    const ordered = this.order(candidates, LAMBDA[options.strategy]);

    const packed: Passage[] = [];
    const kept: Uint32Array[] = [];
    let usedTokens = 0;
    let droppedAsDuplicates = 0;
    let truncated = 0;
    for (const candidate of ordered) {
      if (kept.some((other) => jaccardOfSorted(other, candidate.shingles) >= threshold)) {
        droppedAsDuplicates++;
        continue;
      }
      const room = options.budgetTokens - usedTokens;
      if (candidate.tokens <= room) {
        packed.push(candidate.passage);
        usedTokens += candidate.tokens;
      } else if (room >= minTokens) {
        // Only the passage that is cut needs its tokens themselves.
        const tokens = this.encoding.encode_ordinary(candidate.passage.text);
        const text = new TextDecoder().decode(this.encoding.decode(tokens.slice(0, room))).replace(/\uFFFD+$/, '');
        packed.push({ ...candidate.passage, text: `${text}…` });
        usedTokens += room;
        truncated++;
        break;
      } else {
        break;
      }
      kept.push(candidate.shingles);
    }
    return { passages: packed.map((passage, index) => ({ ...passage, index: index + 1 })), usedTokens, droppedAsDuplicates, truncated };
  }

  dispose(): void {
    this.encoding.free();
  }

  /** Maximal marginal relevance: λ·relevance − (1−λ)·max similarity to what is already chosen. */
  private order<T extends Candidate>(candidates: T[], lambda: number): T[] {
    const byScore = [...candidates].sort((a, b) => b.passage.score - a.passage.score);
    if (lambda >= 1 || byScore.length < 3) return byScore;
    const top = byScore[0].passage.score;
    const bottom = byScore[byScore.length - 1].passage.score;
    const relevance = (candidate: T) => (top === bottom ? 1 : (candidate.passage.score - bottom) / (top - bottom));
    const chosen: T[] = [];
    const rest = [...byScore];
    while (rest.length > 0) {
      let bestIndex = 0;
      let bestValue = Number.NEGATIVE_INFINITY;
      rest.forEach((candidate, index) => {
        const redundancy = chosen.reduce((max, other) => Math.max(max, jaccardOfSorted(other.shingles, candidate.shingles)), 0);
        const value = lambda * relevance(candidate) - (1 - lambda) * redundancy;
        if (value > bestValue) {
          bestValue = value;
          bestIndex = index;
        }
      });
      chosen.push(...rest.splice(bestIndex, 1));
    }
    return chosen;
  }
}
