import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@quarry/testing';

// shared/ sits beside the repository (as in CI's checkout).
const SCIFACT = join(repoRoot(), '..', 'shared', 'data', 'ir', 'scifact');

export interface SampleDocument {
  id: string;
  title: string;
  text: string;
}

function readJsonLines<T>(file: string, limit: number): T[] {
  return readFileSync(join(SCIFACT, file), 'utf8')
    .split('\n')
    .filter(Boolean)
    .slice(0, limit)
    .map((line) => JSON.parse(line) as T);
}

/** The first `limit` SciFact abstracts (real third-party text) and queries, for latency benchmarks. */
export function scifactSample(documents: number, queries: number): { documents: SampleDocument[]; queries: string[] } {
  return {
    documents: readJsonLines<{ _id: string; title: string; text: string }>('corpus.jsonl', documents).map((row) => ({
      id: row._id,
      title: row.title,
      text: row.text,
    })),
    queries: readJsonLines<{ text: string }>('queries.jsonl', queries).map((row) => row.text),
  };
}
