import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BeirDocument {
  id: string;
  title: string;
  text: string;
}

/** What a retrieval evaluation needs of a BEIR folder: the judged queries of a split and their judgements. */
export interface BeirJudgements {
  name: string;
  /** The qrels split the queries and judgements come from (`test` unless asked otherwise). */
  split: string;
  /** Only the queries that have judgements in the split's qrels. */
  queries: Array<{ id: string; text: string }>;
  /** query id → (document id → graded relevance) */
  qrels: Map<string, Map<string, number>>;
}

export interface BeirDataset extends BeirJudgements {
  corpus: BeirDocument[];
}

function jsonLines<T>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as T);
}

/**
 * Reads queries.jsonl and qrels/<split>.tsv of a BEIR-format folder, not the corpus (which can be
 * large, and is not needed to score rankings of a corpus already ingested).
 */
export function loadBeirJudgements(folder: string, split = 'test'): BeirJudgements {
  const qrels = new Map<string, Map<string, number>>();
  const lines = readFileSync(join(folder, 'qrels', `${split}.tsv`), 'utf8').split('\n').slice(1);
  for (const line of lines) {
    const [queryId, documentId, score] = line.trim().split('\t');
    if (!queryId || !documentId) continue;
    const judged = qrels.get(queryId) ?? new Map<string, number>();
    judged.set(documentId, Number(score));
    qrels.set(queryId, judged);
  }
  const queries = jsonLines<{ _id: string; text: string }>(join(folder, 'queries.jsonl'))
    .map((row) => ({ id: String(row._id), text: row.text }))
    .filter((query) => qrels.has(query.id));
  return { name: folder.split('/').filter(Boolean).pop() ?? folder, split, queries, qrels };
}

/** Reads a BEIR-format folder: corpus.jsonl, queries.jsonl and qrels/<split>.tsv (test by default). */
export function loadBeirDataset(folder: string, split = 'test'): BeirDataset {
  const corpus = jsonLines<{ _id: string; title?: string; text?: string }>(join(folder, 'corpus.jsonl')).map((row) => ({
    id: String(row._id),
    title: row.title ?? '',
    text: row.text ?? '',
  }));
  return { ...loadBeirJudgements(folder, split), corpus };
}

/**
 * The file name a BEIR corpus document is uploaded under (`<corpus id>.md`, as the eval tools
 * ingest it), and back: how a search hit is matched with the qrels without a table of ids.
 */
export const beirFilename = (corpusId: string): string => `${corpusId}.md`;
export const corpusIdOfFilename = (filename: string): string | undefined => (filename.endsWith('.md') ? filename.slice(0, -3) : undefined);
