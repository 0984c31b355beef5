/**
 * Question streams for bench:load. SciFact ships its 300 test questions only, so "distinct" asks
 * perturbed copies: the question with a tag no abstract contains ("ref q1234"), so retrieval finds
 * the same passages while every question text, and so any cache key made from it, is new. No
 * question repeats within a process, and the untagged questions are left to the Zipf mix, whose
 * first run so starts with a cold cache.
 */
export class DistinctQuestions {
  private next = 0;

  constructor(
    private readonly base: readonly string[],
    private readonly tag = 'ref q',
  ) {
    if (base.length === 0) throw new RangeError('no questions');
  }

  take(): string {
    const position = this.next++;
    return `${this.base[position % this.base.length]} (${this.tag}${position})`;
  }
}

/** A fixed set of questions asked in turn: once asked, each is answered from the answer cache. */
export class RepeatedQuestions {
  private next = 0;

  constructor(readonly questions: readonly string[]) {
    if (questions.length === 0) throw new RangeError('no questions');
  }

  take(): string {
    return this.questions[this.next++ % this.questions.length];
  }
}

/** A small seeded PRNG (mulberry32): the same mix on every run and every version. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Questions drawn from a Zipf distribution over the question set: the question of rank k
 * (1-based, in the set's order) with probability proportional to 1 / k^s.
 */
export class ZipfQuestions {
  private readonly cumulative: number[];
  private readonly random: () => number;

  constructor(
    private readonly base: readonly string[],
    s = 1,
    seed = 42,
  ) {
    if (base.length === 0) throw new RangeError('no questions');
    let sum = 0;
    this.cumulative = base.map((_, index) => (sum += 1 / (index + 1) ** s));
    this.cumulative = this.cumulative.map((value) => value / sum);
    this.random = seededRandom(seed);
  }

  /** The rank (0-based) of the next draw. */
  draw(): number {
    const target = this.random();
    let low = 0;
    let high = this.cumulative.length - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.cumulative[middle] < target) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  take(): string {
    return this.base[this.draw()];
  }
}
