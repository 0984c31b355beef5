import { termFrequencies, tokenize } from '@quarry/domain';
import { PostingList } from './posting-list';
import { type ScoredId, TopK } from './top-k';
import { normalisedFrequency, stripExtension, sum } from './bm25-weighting';

export interface Bm25Options {
  /** Term-frequency saturation: how quickly repeated occurrences stop adding score. */
  readonly k1?: number;
  /** Length normalisation: 0 ignores chunk length, 1 fully normalises by it. */
  readonly b?: number;
  /** Weight of a filename occurrence relative to one in the chunk text (a small boost). */
  readonly filenameWeight?: number;
  /** Text → terms; the domain tokenizer (stop words, Porter2) unless a test swaps it. */
  readonly tokenize?: (text: string) => string[];
  /**
   * How far (as a fraction) the true average chunk length may drift from the average the length
   * norms were computed with before they are all recomputed; 0 recomputes on every change of the
   * average (exact BM25). See `DEFAULT_LENGTH_NORM_TOLERANCE`.
   */
  readonly lengthNormTolerance?: number;
}

export interface Bm25Fields {
  readonly text: string;
  readonly filename: string;
}

export const DEFAULT_BM25_OPTIONS = { k1: 1.2, b: 0.75, filenameWeight: 0.3 } as const;

/**
 * 1%. Each chunk's length norm 1 / (1 − b + b·length/average) is computed when the chunk is added,
 * against a reference average, instead of recomputing every norm of the tenant after each change.
 * With the reference within a fraction τ of the true average, every norm — and so every
 * length-normalised frequency, and so every BM25 score, which only grows sub-linearly with them — is
 * within a relative τ/(1 − τ) of exact BM25 (about 1.01% here); ranks can only swap between
 * chunks whose exact scores are that close. When the true average drifts further, all norms are
 * recomputed against it, once, at the next search. Moving the average by τ takes changes worth τ of
 * the tenant's total length, so a full recompute (O(chunks)) is amortised over that many changes.
 */
export const DEFAULT_LENGTH_NORM_TOLERANCE = 0.01;

/**
 * A posting's count packs both fields into one integer, `inText << FILENAME_BITS | inFilename`,
 * so a posting is two Int32 values whatever the number of fields.
 */
const FILENAME_BITS = 10;
const FILENAME_MASK = (1 << FILENAME_BITS) - 1;

/** Removed postings are compacted away once they outnumber live ones (and there are enough). */
const MIN_DEAD_POSTINGS_TO_VACUUM = 1024;

const INITIAL_SLOTS = 64;

/** Filter verdicts per slot during one search. */
const UNSEEN = 0;
const ACCEPTED = 1;
const REJECTED = 2;

interface Entry {
  readonly id: string;
  readonly textLength: number;
  readonly filenameLength: number;
  /** Distinct terms, to find the chunk's postings on removal without scanning the vocabulary. */
  readonly terms: readonly string[];
}

/**
 * BM25 over one tenant's chunks (one instance per tenant, so term statistics — document
 * frequencies and average lengths — never mix tenants, and a tenant's ranking cannot leak
 * anything about another's corpus).
 *
 * The filename is a second field, combined the BM25F way: per-field length-normalised term
 * frequencies are weighted and summed before the saturation curve, so a term in the filename
 * nudges every chunk of that document up a little without outweighing the text itself.
 *
 * Chunks live in numbered slots; each term has a `PostingList` of slots. Adding appends to the
 * chunk's own terms' lists. Removing frees the slot and marks its postings dead (statistics stay
 * exact at once); dead postings are swept in one pass when they outnumber live ones, and only
 * then are freed slots reused — so a stale posting can never point at a newer chunk.
 */
export class Bm25Index {
  private readonly k1: number;
  private readonly b: number;
  private readonly filenameWeight: number;
  private readonly tokenize: (text: string) => string[];
  private readonly lengthNormTolerance: number;

  private readonly postings = new Map<string, PostingList>();
  private readonly entries: (Entry | undefined)[] = [];
  private readonly slotById = new Map<string, number>();
  /** Slots no posting refers to any more: free to reuse. */
  private readonly reusableSlots: number[] = [];
  /** Slots of removed chunks whose dead postings have not been swept yet. */
  private readonly retiredSlots: number[] = [];
  private livePostings = 0;
  private deadPostings = 0;
  private totalTextLength = 0;
  private totalFilenameLength = 0;
  /**
   * Length normalisation per slot, 1 / (1 − b + b · length / reference average), for both fields:
   * computed once per chunk at add time, not once per matching posting (a query touches thousands).
   */
  private textNorm = new Float64Array(INITIAL_SLOTS);
  private filenameNorm = new Float64Array(INITIAL_SLOTS);
  /** The average lengths the norms were computed with. */
  private reference = { text: 0, filename: 0 };
  /** The true averages drifted beyond the tolerance: recompute every norm before the next search. */
  private normsStale = false;
  private scratchArrays = { scores: new Float64Array(0), verdicts: new Uint8Array(0) };

  constructor(options: Bm25Options = {}) {
    this.k1 = options.k1 ?? DEFAULT_BM25_OPTIONS.k1;
    this.b = options.b ?? DEFAULT_BM25_OPTIONS.b;
    this.filenameWeight = options.filenameWeight ?? DEFAULT_BM25_OPTIONS.filenameWeight;
    this.tokenize = options.tokenize ?? tokenize;
    this.lengthNormTolerance = options.lengthNormTolerance ?? DEFAULT_LENGTH_NORM_TOLERANCE;
    if (!(this.k1 >= 0) || !(this.b >= 0 && this.b <= 1) || !(this.filenameWeight >= 0)) {
      throw new RangeError('BM25 needs k1 >= 0, 0 <= b <= 1 and filenameWeight >= 0');
    }
    if (!(this.lengthNormTolerance >= 0 && this.lengthNormTolerance < 1)) {
      throw new RangeError('BM25 needs 0 <= lengthNormTolerance < 1');
    }
  }

  get size(): number {
    return this.slotById.size;
  }

  has(id: string): boolean {
    return this.slotById.has(id);
  }

  /** Indexes the chunk under `id`, replacing what was indexed for it before. */
  add(id: string, fields: Bm25Fields): void {
    this.remove(id);
    const textTerms = termFrequencies(this.tokenize(fields.text));
    const filenameTerms = termFrequencies(this.tokenize(stripExtension(fields.filename)));
    const terms = new Set(textTerms.keys());
    for (const term of filenameTerms.keys()) terms.add(term);

    const slot = this.reusableSlots.pop() ?? this.entries.length;
    this.entries[slot] = {
      id,
      textLength: sum(textTerms.values()),
      filenameLength: sum(filenameTerms.values()),
      terms: [...terms],
    };
    this.slotById.set(id, slot);
    for (const term of terms) {
      let list = this.postings.get(term);
      if (!list) {
        list = new PostingList();
        this.postings.set(term, list);
      }
      const inFilename = Math.min(filenameTerms.get(term) ?? 0, FILENAME_MASK);
      list.append(slot, ((textTerms.get(term) ?? 0) << FILENAME_BITS) | inFilename);
    }
    this.livePostings += terms.size;
    this.totalTextLength += this.entries[slot].textLength;
    this.totalFilenameLength += this.entries[slot].filenameLength;
    this.ensureNormCapacity(slot + 1);
    this.textNorm[slot] = this.lengthNorm(this.entries[slot].textLength, this.reference.text);
    this.filenameNorm[slot] = this.lengthNorm(this.entries[slot].filenameLength, this.reference.filename);
    this.noteAverageChange();
  }

  remove(id: string): boolean {
    const slot = this.slotById.get(id);
    const entry = slot === undefined ? undefined : this.entries[slot];
    if (slot === undefined || !entry) return false;
    for (const term of entry.terms) this.postings.get(term)?.markOneDead();
    this.livePostings -= entry.terms.length;
    this.deadPostings += entry.terms.length;
    this.totalTextLength -= entry.textLength;
    this.totalFilenameLength -= entry.filenameLength;
    this.entries[slot] = undefined;
    this.slotById.delete(id);
    this.retiredSlots.push(slot);
    this.noteAverageChange();
    if (this.deadPostings >= Math.max(this.livePostings, MIN_DEAD_POSTINGS_TO_VACUUM)) this.vacuum();
    return true;
  }

  /**
   * The `limit` best-scoring chunks for the query that `accept` lets through, best first.
   * The filter is applied while scoring (not to a truncated result), so a selective filter still
   * yields up to `limit` hits; each chunk is checked once, the first time one of its terms matches.
   */
  search(queryText: string, limit: number, accept?: (id: string) => boolean): ScoredId[] {
    if (this.size === 0 || limit <= 0) return [];
    const { k1, filenameWeight, entries } = this;
    if (this.normsStale) this.recomputeNorms();
    const { textNorm, filenameNorm } = this;
    const { scores, verdicts } = this.scratch();
    const visited: number[] = [];
    for (const term of new Set(this.tokenize(queryText))) {
      const list = this.postings.get(term);
      if (!list || list.liveCount === 0) continue;
      const weight = inverseDocumentFrequency(this.size, list.liveCount) * (k1 + 1);
      for (let i = 0; i < list.length; i++) {
        const slot = list.slotAt(i);
        let verdict = verdicts[slot];
        if (verdict === UNSEEN) {
          const entry = entries[slot];
          verdict = entry === undefined ? REJECTED : accept === undefined || accept(entry.id) ? ACCEPTED : REJECTED; // undefined: a dead posting
          verdicts[slot] = verdict;
          visited.push(slot);
        }
        if (verdict === REJECTED) continue;
        const packed = list.countAt(i);
        // BM25F: per-field length-normalised frequencies, weighted and summed before saturation.
        const weightedFrequency = (packed >>> FILENAME_BITS) * textNorm[slot] + filenameWeight * (packed & FILENAME_MASK) * filenameNorm[slot];
        if (weightedFrequency > 0) scores[slot] += (weight * weightedFrequency) / (weightedFrequency + k1);
      }
    }

    const best = new TopK(limit);
    // Most visited chunks score below the current top list: a number comparison turns them away
    // before their id is looked up (ties still go to `offer`, which orders them by id).
    let floor = 0;
    for (const slot of visited) {
      const score = scores[slot];
      if (verdicts[slot] === ACCEPTED && score > 0 && score >= floor) {
        best.offer((entries[slot] as Entry).id, score);
        if (best.size === limit) floor = best.worstScore;
      }
      // The scratch arrays are shared by every search: leave them zeroed.
      scores[slot] = 0;
      verdicts[slot] = UNSEEN;
    }
    return best.toSortedArray();
  }

  private lengthNorm(length: number, averageLength: number): number {
    // A field empty in every chunk has an average length of 0; its frequencies are all 0 anyway.
    return averageLength > 0 ? normalisedFrequency(1, length, averageLength, this.b) : 0;
  }

  /** Marks the norms stale once a true average is further from its reference than the tolerance. */
  private noteAverageChange(): void {
    if (this.normsStale || this.size === 0) return;
    const drifted = (total: number, reference: number): boolean => Math.abs(total / this.size - reference) > this.lengthNormTolerance * reference;
    if (drifted(this.totalTextLength, this.reference.text) || drifted(this.totalFilenameLength, this.reference.filename)) this.normsStale = true;
  }

  /** Every live slot's norms against the true averages, which become the new reference. */
  private recomputeNorms(): void {
    this.reference = { text: this.totalTextLength / this.size, filename: this.totalFilenameLength / this.size };
    this.entries.forEach((entry, slot) => {
      if (!entry) return;
      this.textNorm[slot] = this.lengthNorm(entry.textLength, this.reference.text);
      this.filenameNorm[slot] = this.lengthNorm(entry.filenameLength, this.reference.filename);
    });
    this.normsStale = false;
  }

  private ensureNormCapacity(slots: number): void {
    if (slots <= this.textNorm.length) return;
    const capacity = Math.max(slots, this.textNorm.length * 2);
    const grow = (norms: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> => {
      const grown = new Float64Array(capacity);
      grown.set(norms);
      return grown;
    };
    this.textNorm = grow(this.textNorm);
    this.filenameNorm = grow(this.filenameNorm);
  }

  /** Zeroed per-slot accumulators, reused by every search (searches are synchronous). */
  private scratch(): { scores: Float64Array; verdicts: Uint8Array } {
    if (this.scratchArrays.scores.length < this.entries.length) {
      const capacity = Math.max(this.entries.length, this.scratchArrays.scores.length * 2);
      this.scratchArrays = { scores: new Float64Array(capacity), verdicts: new Uint8Array(capacity) };
    }
    return this.scratchArrays;
  }

  /** Sweeps dead postings out of every list, then lets the retired slots be reused. */
  private vacuum(): void {
    const isRemoved = (slot: number): boolean => this.entries[slot] === undefined;
    for (const [term, list] of this.postings) {
      if (list.liveCount === 0) this.postings.delete(term);
      else if (list.liveCount < list.length) list.compact(isRemoved);
    }
    this.reusableSlots.push(...this.retiredSlots);
    this.retiredSlots.length = 0;
    this.deadPostings = 0;
  }
}

/** Lucene's BM25 idf: always positive, so a term in most chunks still counts a little. */
function inverseDocumentFrequency(chunkCount: number, chunksWithTerm: number): number {
  return Math.log(1 + (chunkCount - chunksWithTerm + 0.5) / (chunksWithTerm + 0.5));
}
