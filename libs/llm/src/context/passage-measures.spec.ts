import { get_encoding } from 'tiktoken';
import type { Passage } from '../answer-generator.port';
import { jaccard, jaccardOfSorted, shingleHashes, shingles } from './near-duplicates';
import { ContextPacker, type PackingStrategy } from './pack-context';
import { PassageMeasures } from './passage-measures';

const WORDS = 'employees receive twenty seven days of paid vacation every calendar year parking spaces basement garage assigned facilities team train travel reimbursed second class flights need approval director advance'.split(' ');

/** A deterministic pseudo-random text of `length` words drawn from a small vocabulary (many shared shingles). */
function text(seed: number, length: number): string {
  let state = seed;
  const words: string[] = [];
  for (let index = 0; index < length; index++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    words.push(WORDS[state % WORDS.length]);
  }
  return `${words.join(' ')}.`;
}

describe('PassageMeasures (token counts and shingles computed once per chunk)', () => {
  const encoding = get_encoding('cl100k_base');
  afterAll(() => encoding.free());
  const count = (value: string) => encoding.encode_ordinary(value).length;

  it('measures a passage as tiktoken and the string shingles do, and reuses the measure for the same chunk and text', () => {
    const counted: string[] = [];
    const measures = new PassageMeasures((value) => (counted.push(value), count(value)));
    const sample = text(7, 120);
    const first = measures.of('chunk-1', sample);
    expect(first.tokens).toBe(count(sample));
    expect(first.shingles.length).toBe(shingles(sample).size);
    expect(measures.of('chunk-1', sample)).toBe(first);
    expect(counted).toEqual([sample]);
    expect(measures.stats).toEqual({ computed: 1, reused: 1, size: 1 });
  });

  it('measures a chunk again when its text changed, and stays within its bound', () => {
    const measures = new PassageMeasures(count, 3);
    const before = measures.of('chunk-1', 'the old text of the chunk');
    const after = measures.of('chunk-1', 'the new text of the chunk, longer');
    expect(after).not.toBe(before);
    expect(after.tokens).toBe(count('the new text of the chunk, longer'));
    // Same length, other text: caught by the hash.
    const same = measures.of('chunk-1', 'the new text of the chunk, LONGER');
    expect(same).not.toBe(after);
    for (let index = 0; index < 10; index++) measures.of(`chunk-${index}`, text(index, 20));
    expect(measures.stats.size).toBe(3);
  });

  it('hashed shingles give the Jaccard similarity of the string shingles', () => {
    for (let seed = 1; seed < 40; seed++) {
      const a = text(seed, 10 + (seed % 30));
      const b = text(seed * 31, 10 + ((seed * 7) % 30));
      expect(jaccardOfSorted(shingleHashes(a), shingleHashes(b))).toBeCloseTo(jaccard(shingles(a), shingles(b)), 12);
      expect(jaccardOfSorted(shingleHashes(a), shingleHashes(a))).toBe(1);
    }
    expect(jaccardOfSorted(shingleHashes(''), shingleHashes(''))).toBe(1);
  });

  it('a packer that remembers measures packs exactly as a fresh one, query after query', () => {
    const remembering = new ContextPacker();
    const strategies: PackingStrategy[] = ['relevance', 'diversity', 'both'];
    try {
      for (let query = 0; query < 30; query++) {
        // Chunks recur across queries (ids 0..11), with their own text, as retrieval returns them.
        const passages: Passage[] = Array.from({ length: 6 }, (_, position) => {
          const chunk = (query * 5 + position * 7) % 12;
          return { index: position + 1, chunkId: `c${chunk}`, documentId: `d${chunk}`, filename: `f${chunk}.md`, text: text(chunk + 1, 20 + chunk * 9), score: 1 - position * 0.1 - (chunk % 3) * 0.01 };
        });
        const options = { budgetTokens: 150 + (query % 5) * 60, strategy: strategies[query % 3], duplicateThreshold: 0.5 + (query % 4) * 0.1 };
        const fresh = new ContextPacker({ measuredPassages: 1 });
        try {
          expect(remembering.pack(passages, options)).toEqual(fresh.pack(passages, options));
        } finally {
          fresh.dispose();
        }
      }
      expect(remembering.measures.stats.computed).toBe(12);
      expect(remembering.measures.stats.reused).toBe(30 * 6 - 12);
    } finally {
      remembering.dispose();
    }
  });
});
