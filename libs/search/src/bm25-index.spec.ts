import { Bm25Index, DEFAULT_LENGTH_NORM_TOLERANCE } from './bm25-index';

const ids = (hits: { id: string }[]): string[] => hits.map((hit) => hit.id);

function corpus(index = new Bm25Index()): Bm25Index {
  index.add('cats', { text: 'Cats are small domesticated felines that purr.', filename: 'pets.md' });
  index.add('dogs', { text: 'Dogs are loyal domesticated animals that bark.', filename: 'pets.md' });
  index.add('tax', { text: 'The quarterly tax filing deadline is in April.', filename: 'finance.pdf' });
  return index;
}

describe('Bm25Index', () => {
  it('ranks the only chunk containing a query term first', () => {
    expect(ids(corpus().search('purr', 10))).toEqual(['cats']);
    expect(ids(corpus().search('deadline for filing', 10))).toEqual(['tax']);
  });

  it('matches inflected forms through stemming', () => {
    expect(ids(corpus().search('barking dog', 10))).toEqual(['dogs']);
  });

  it('ignores stop words and unknown terms', () => {
    expect(corpus().search('the are that', 10)).toEqual([]);
    expect(corpus().search('zeppelin', 10)).toEqual([]);
    expect(corpus().search('', 10)).toEqual([]);
  });

  it('weighs rare terms above common ones (idf)', () => {
    const hits = corpus().search('domesticated purr', 10);
    expect(ids(hits)).toEqual(['cats', 'dogs']);
    expect(hits[0].score).toBeGreaterThan(hits[1].score * 2);
  });

  it('rewards term frequency with saturation, and penalises long chunks', () => {
    const index = new Bm25Index();
    index.add('once', { text: 'invoice', filename: 'a' });
    index.add('thrice', { text: 'invoice invoice invoice', filename: 'a' });
    index.add('padded', { text: `invoice ${'filler '.repeat(50)}`, filename: 'a' });
    index.add('other', { text: 'unrelated words', filename: 'a' });
    const scores = new Map(index.search('invoice', 10).map((hit) => [hit.id, hit.score]));
    expect(scores.get('thrice')).toBeGreaterThan(scores.get('once') as number);
    expect(scores.get('thrice')).toBeLessThan((scores.get('once') as number) * 3);
    expect(scores.get('once')).toBeGreaterThan(scores.get('padded') as number);
  });

  it('computes the textbook BM25 score', () => {
    const index = new Bm25Index({ filenameWeight: 0 });
    index.add('a', { text: 'alpha beta', filename: '' });
    index.add('b', { text: 'gamma delta epsilon zeta', filename: '' });
    const [hit] = index.search('alpha', 1);
    // N=2, n=1 → idf = ln(1 + 1.5/1.5); tf=1, |d|=2, avgdl=3 → tf' = 1 / (0.25 + 0.75·2/3)
    const idf = Math.log(2);
    const tf = 1 / (0.25 + 0.75 * (2 / 3));
    expect(hit.score).toBeCloseTo((idf * tf * 2.2) / (tf + 1.2), 12);
  });

  it('honours k1 and b', () => {
    const index = new Bm25Index({ k1: 0, filenameWeight: 0 });
    index.add('a', { text: 'alpha alpha alpha', filename: '' });
    index.add('b', { text: 'alpha beta', filename: '' });
    index.add('c', { text: 'gamma', filename: '' });
    const [first, second] = index.search('alpha', 2);
    expect(first.score).toBeCloseTo(second.score, 12); // k1 = 0: only presence counts
    expect(() => new Bm25Index({ b: 2 })).toThrow(RangeError);
  });

  it('boosts chunks whose filename contains the term, a little', () => {
    const index = new Bm25Index();
    index.add('in-budget-file', { text: 'spending on travel', filename: 'budget-2024.pdf' });
    index.add('elsewhere', { text: 'spending on travel', filename: 'notes.txt' });
    index.add('says-budget', { text: 'the budget for travel', filename: 'notes.txt' });
    const hits = index.search('travel budget', 10);
    expect(ids(hits)).toEqual(['says-budget', 'in-budget-file', 'elsewhere']);
    // The file extension is not content.
    expect(ids(index.search('pdf', 10))).toEqual([]);
  });

  it('applies the filter while scoring, so filtered-out chunks do not use up the limit', () => {
    const index = new Bm25Index();
    for (let i = 0; i < 20; i++) index.add(`strong${i}`, { text: 'report report report', filename: 'x' });
    index.add('weak', { text: 'a report among many other words here', filename: 'x' });
    const checked: string[] = [];
    const hits = index.search('report', 1, (id) => {
      checked.push(id);
      return id === 'weak';
    });
    expect(ids(hits)).toEqual(['weak']);
    expect(new Set(checked).size).toBe(checked.length); // each chunk checked once
  });

  it('removes chunks and their statistics', () => {
    const index = corpus();
    expect(index.remove('cats')).toBe(true);
    expect(index.remove('cats')).toBe(false);
    expect(index.search('purr', 10)).toEqual([]);
    expect(index.size).toBe(2);
    expect(index.has('cats')).toBe(false);
  });

  it('replaces a chunk re-added under the same id', () => {
    const index = corpus();
    index.add('cats', { text: 'Now about parrots', filename: 'birds.md' });
    expect(index.search('purr', 10)).toEqual([]);
    expect(ids(index.search('parrot', 10))).toEqual(['cats']);
    expect(index.size).toBe(3);
  });

  it('scores identically after removing and re-adding (statistics are kept exact)', () => {
    const index = corpus();
    const before = index.search('domesticated animals', 10);
    index.remove('dogs');
    index.add('dogs', { text: 'Dogs are loyal domesticated animals that bark.', filename: 'pets.md' });
    expect(index.search('domesticated animals', 10)).toEqual(before);
  });

  it('stays exact through heavy churn, when dead postings are swept and slots reused', () => {
    const text = (i: number): string =>
      `shared topic${i % 7} item${i} ${Array.from({ length: 12 }, (_, w) => `word${(i * 31 + w) % 97}`).join(' ')}`;
    const churned = new Bm25Index();
    for (let i = 0; i < 300; i++) churned.add(`c${i}`, { text: text(i), filename: `f${i % 3}.md` });
    for (let i = 0; i < 250; i++) churned.remove(`c${i}`); // far more dead postings than live: sweeps
    for (let i = 1000; i < 1100; i++) churned.add(`c${i}`, { text: text(i), filename: `f${i % 3}.md` });

    const fresh = new Bm25Index();
    for (let i = 250; i < 300; i++) fresh.add(`c${i}`, { text: text(i), filename: `f${i % 3}.md` });
    for (let i = 1000; i < 1100; i++) fresh.add(`c${i}`, { text: text(i), filename: `f${i % 3}.md` });

    for (const queryText of ['shared', 'topic3 word5', 'item10', 'item260 word42', 'f1']) {
      const expected = fresh.search(queryText, 500);
      const actual = churned.search(queryText, 500);
      expect(actual.map((hit) => hit.id)).toEqual(expected.map((hit) => hit.id));
      actual.forEach((hit, i) => expect(hit.score).toBeCloseTo(expected[i].score, 10));
    }
    expect(churned.size).toBe(150);
  });

  it('finds Unicode text', () => {
    const index = new Bm25Index();
    index.add('zh', { text: '机器学习是人工智能的一个分支', filename: '' });
    index.add('ru', { text: 'Машинное обучение — раздел искусственного интеллекта', filename: '' });
    index.add('fr', { text: 'Le café est très bon', filename: '' });
    expect(ids(index.search('机器学习', 10))).toEqual(['zh']);
    expect(ids(index.search('обучение', 10))).toEqual(['ru']);
    expect(ids(index.search('cafe', 10))).toEqual(['fr']);
  });

  describe('length norms kept per chunk instead of recomputed for the whole tenant after each change', () => {
    const tolerance = DEFAULT_LENGTH_NORM_TOLERANCE;
    /** The bound the tolerance guarantees on every score, relative to exact BM25 (see DEFAULT_LENGTH_NORM_TOLERANCE). */
    const bound = tolerance / (1 - tolerance);
    const text = (i: number, words = 12 + (i % 9)): string => Array.from({ length: words }, (_, w) => `term${(i * 7 + w * 3) % 61}`).join(' ');
    const queries = ['term1', 'term5 term17', 'term30 term31 term32', 'term60', 'term2 term44'];

    /** The same final corpus, indexed from scratch with exact norms. */
    function exactIndexOf(chunks: Map<string, string>): Bm25Index {
      const exact = new Bm25Index({ lengthNormTolerance: 0 });
      for (const [id, body] of chunks) exact.add(id, { text: body, filename: '' });
      return exact;
    }

    function compare(incremental: Bm25Index, exact: Bm25Index): { largestRelativeError: number } {
      let largestRelativeError = 0;
      for (const query of queries) {
        const expected = exact.search(query, 1000);
        const actual = incremental.search(query, 1000);
        const exactScore = new Map(expected.map((hit) => [hit.id, hit.score]));
        expect(actual.map((hit) => hit.id).sort()).toEqual(expected.map((hit) => hit.id).sort());
        for (const hit of actual) {
          const reference = exactScore.get(hit.id) as number;
          largestRelativeError = Math.max(largestRelativeError, Math.abs(hit.score - reference) / reference);
        }
        // Ranks agree, except between chunks whose exact scores are within the bound of each other.
        for (let i = 1; i < actual.length; i++) {
          const [higher, lower] = [exactScore.get(actual[i - 1].id) as number, exactScore.get(actual[i].id) as number];
          expect(higher >= lower || (lower - higher) / lower <= 2 * bound).toBe(true);
        }
      }
      return { largestRelativeError };
    }

    it('scores within τ/(1−τ) of exact BM25 while the average length drifts less than τ', () => {
      const chunks = new Map<string, string>();
      const incremental = new Bm25Index();
      const put = (id: string, body: string) => {
        chunks.set(id, body);
        incremental.add(id, { text: body, filename: '' });
      };
      for (let i = 0; i < 400; i++) put(`c${i}`, text(i));
      incremental.search('term1', 1); // a search settles the norms against the true average
      // Churn that moves the average by about half the tolerance, a search after each change (each of
      // which used to recompute all 400 norms).
      for (let i = 0; i < 20; i++) {
        put(`c${i}`, text(i, 20 + (i % 9)));
        incremental.search('term1', 1);
      }
      for (let i = 400; i < 410; i++) {
        put(`c${i}`, text(i));
        incremental.search('term5', 1);
      }
      for (let i = 20; i < 30; i++) {
        chunks.delete(`c${i}`);
        incremental.remove(`c${i}`);
        incremental.search('term5', 1);
      }
      const { largestRelativeError } = compare(incremental, exactIndexOf(chunks));
      expect(largestRelativeError).toBeLessThanOrEqual(bound);
      // The norms really were kept incrementally: exact recomputation would leave no error at all.
      expect(largestRelativeError).toBeGreaterThan(1e-6);
    });

    it('recomputes every norm once the true average drifts beyond the tolerance', () => {
      const chunks = new Map<string, string>();
      const incremental = new Bm25Index();
      for (let i = 0; i < 200; i++) {
        chunks.set(`c${i}`, text(i));
        incremental.add(`c${i}`, { text: text(i), filename: '' });
      }
      incremental.search('term1', 1);
      // One chunk long enough to move the average by far more than 1%.
      const long = text(7, 400);
      chunks.set('long', long);
      incremental.add('long', { text: long, filename: '' });
      const { largestRelativeError } = compare(incremental, exactIndexOf(chunks));
      expect(largestRelativeError).toBeLessThan(1e-12);
    });

    it('refuses a tolerance outside [0, 1)', () => {
      expect(() => new Bm25Index({ lengthNormTolerance: -0.1 })).toThrow(RangeError);
      expect(() => new Bm25Index({ lengthNormTolerance: 1 })).toThrow(RangeError);
    });
  });
});
