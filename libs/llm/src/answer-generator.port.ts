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

/** Tokens and time of one model call (a generator without a model reports none). */
export interface ChatUsage {
  model: string;
  promptTokens: number;
  completionTokens: number;
  durationMs: number;
  /** False when the server sent no usage (the counts are then 0, not measured). */
  reported: boolean;
}
export type ChatUsageListener = (usage: ChatUsage) => void;

/** Writes an answer to a question using only the given passages, citing them as `[n]`. */
export interface AnswerGenerator {
  readonly model: string;
  /** `onUsage` is told of the call's tokens when a model answers. */
  generate(question: string, passages: Passage[], signal?: AbortSignal, onUsage?: ChatUsageListener): Promise<GeneratedAnswer>;
  /** Yields the answer text as deltas; concatenated they form the whole answer. */
  stream(question: string, passages: Passage[], signal?: AbortSignal, onUsage?: ChatUsageListener): AsyncIterable<string>;
}
