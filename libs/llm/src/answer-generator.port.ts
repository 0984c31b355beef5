/** A retrieved chunk offered to the generator as evidence, numbered for citation. */
export interface Passage {
  /** 1-based citation number; an answer cites this passage as `[index]`. */
  index: number;
  chunkId: string;
  documentId: string;
  filename: string;
  text: string;
  score: number;
}

export interface GeneratedAnswer {
  answer: string;
  /** The `Passage.index` values the answer actually cites, ascending, without duplicates. */
  citedPassageIndexes: number[];
  model: string;
}

/** Writes an answer to a question using only the given passages, citing them as `[n]`. */
export interface AnswerGenerator {
  readonly model: string;
  generate(question: string, passages: Passage[], signal?: AbortSignal): Promise<GeneratedAnswer>;
  /** Yields the answer text as deltas; concatenated they form the whole answer. */
  stream(question: string, passages: Passage[], signal?: AbortSignal): AsyncIterable<string>;
}
