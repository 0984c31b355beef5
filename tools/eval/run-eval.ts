/**
 * `npm run eval -- --dataset <BEIR folder> [--min-ndcg 0.68] [--in-process]`
 *
 * Ingests the corpus into a fresh tenant through the real pipeline (the five services as processes,
 * own Postgres schema and Redis prefix), runs every test query through the retrieval service for
 * lexical-only, dense-only and hybrid retrieval, and prints nDCG@10, Recall@100, MRR@10 and p50/p99
 * latency next to published baselines. With --min-ndcg it exits 1 when hybrid nDCG@10 is lower.
 * --in-process skips the services and builds the index directly (seconds; for experiments).
 */
import { parseArgs } from 'node:util';
import { type BeirDataset, type RankingScores, loadBeirDataset, meanScores, scoreRanking } from '@quarry/eval';
import { startIsolatedStack } from '@quarry/testing';
import { BullMqClient, JobClient } from '@quarry/transport';
import { percentile } from '../bench/stats';
import { type RetrievalMode, buildInProcessIndex } from './in-process-eval';
import { ingestThroughPipeline, retrieveThroughService } from './pipeline-eval';

const MODES: RetrievalMode[] = ['lexical', 'dense', 'hybrid'];

// Published SciFact test nDCG@10 (../shared/data/ir/BASELINES.md).
const SCIFACT_BASELINES = [
  ['BEIR BM25 (Elasticsearch)', 0.665],
  ['BEIR BM25 + cross-encoder', 0.688],
  ['all-MiniLM-L6-v2', 0.645],
  ['bge-small-en-v1.5', 0.713],
] as const;

type Retrieve = (query: string, mode: RetrievalMode) => Promise<string[]>;

interface ModeResult {
  mode: RetrievalMode;
  ndcg10: number;
  recall100: number;
  mrr10: number;
  p50Ms: number;
  p99Ms: number;
}

async function evaluate(dataset: BeirDataset, retrieve: Retrieve): Promise<ModeResult[]> {
  const results: ModeResult[] = [];
  for (const mode of MODES) {
    const scores: RankingScores[] = [];
    const latencies: number[] = [];
    for (const query of dataset.queries) {
      const started = performance.now();
      const ranked = await retrieve(query.text, mode);
      latencies.push(performance.now() - started);
      scores.push(scoreRanking(ranked, dataset.qrels.get(query.id) as Map<string, number>, 100));
    }
    const { ndcgAt10, recallAtK, mrrAt10 } = meanScores(scores);
    results.push({ mode, ndcg10: ndcgAt10, recall100: recallAtK, mrr10: mrrAt10, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) });
  }
  return results;
}

function report(dataset: BeirDataset, results: ModeResult[], how: string): void {
  console.log(`\n${dataset.name}: ${dataset.corpus.length} documents, ${dataset.queries.length} judged queries (${how})\n`);
  console.log('mode      nDCG@10  Recall@100  MRR@10   p50 ms   p99 ms');
  for (const result of results) {
    console.log(
      `${result.mode.padEnd(8)}  ${result.ndcg10.toFixed(4)}   ${result.recall100.toFixed(4)}     ${result.mrr10.toFixed(4)}  ${result.p50Ms.toFixed(2).padStart(7)}  ${result.p99Ms.toFixed(2).padStart(7)}`,
    );
  }
  if (dataset.name.toLowerCase() === 'scifact') {
    console.log('\npublished nDCG@10 on SciFact test:');
    for (const [name, value] of SCIFACT_BASELINES) console.log(`  ${name.padEnd(28)} ${value.toFixed(3)}`);
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { dataset: { type: 'string' }, 'min-ndcg': { type: 'string' }, 'in-process': { type: 'boolean', default: false } },
  });
  if (!values.dataset) {
    console.error('usage: npm run eval -- --dataset <BEIR folder> [--min-ndcg 0.68] [--in-process]');
    return 2;
  }
  const dataset = loadBeirDataset(values.dataset);
  let results: ModeResult[];
  if (values['in-process']) {
    const { index, embedder } = await buildInProcessIndex(dataset);
    results = await evaluate(dataset, async (query, mode) => {
      const [vector] = await embedder.embed([query]);
      const hits = await index.search({ tenantId: 'eval', text: query, vector, topK: 100, mode });
      return hits.map((hit) => hit.documentId);
    });
    report(dataset, results, 'in-process index, no services');
  } else {
    const { stack, schema, redis, stop } = await startIsolatedStack('eval', {
      LOG_LEVEL: 'warn',
      WORKER_CONCURRENCY: '8',
      ...(process.env.EVAL_CHUNK_SIZE ? { CHUNK_SIZE_TOKENS: process.env.EVAL_CHUNK_SIZE } : {}),
      ...(process.env.EVAL_DIMENSIONS ? { EMBEDDING_DIMENSIONS: process.env.EVAL_DIMENSIONS } : {}),
    });
    const client = new BullMqClient({ url: redis.url, prefix: redis.prefix, requestTimeoutMs: 30_000 });
    try {
      const started = Date.now();
      const corpusIdOf = await ingestThroughPipeline(stack, dataset, { url: schema.url, schema: schema.schema });
      console.log(`ingested ${corpusIdOf.size} documents through the pipeline in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      const jobs = new JobClient(client);
      results = await evaluate(dataset, (query, mode) => retrieveThroughService(jobs, query, mode, corpusIdOf));
      report(dataset, results, 'through gateway, queues and the retrieval service');
    } finally {
      await client.close();
      await stop();
    }
  }
  const hybrid = results.find((result) => result.mode === 'hybrid') as ModeResult;
  const threshold = values['min-ndcg'] === undefined ? undefined : Number(values['min-ndcg']);
  if (threshold !== undefined && hybrid.ndcg10 < threshold) {
    console.log(`\nFAIL: hybrid nDCG@10 ${hybrid.ndcg10.toFixed(4)} is below ${threshold}`);
    return 1;
  }
  if (threshold !== undefined) console.log(`\nOK: hybrid nDCG@10 ${hybrid.ndcg10.toFixed(4)} ≥ ${threshold}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
