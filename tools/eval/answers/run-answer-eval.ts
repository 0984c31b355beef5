/**
 * `npm run eval:answers -- --dataset <BEIR folder> [--queries N] [--concurrency 2] [--split test] [--json out.json]`
 *
 * Ingests the corpus into a fresh tenant through the real pipeline (the same path as `npm run eval`),
 * then asks every judged query of the split through `POST /api/query` twice: as the agent answers
 * by default (its refine loop on) and with `maxRefinements: 0` (loop off). Prints citation precision
 * and recall against the qrels, groundedness, route and refinement counts and latency for both.
 * The gateway's answer cache and the retrieval, query-vector and LLM caches are off, so the second
 * asking of a question is not served from the first.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadBeirDataset } from '@quarry/eval';
import { startIsolatedStack } from '@quarry/testing';
import { ingestThroughPipeline } from '../pipeline-eval';
import { METRIC_DEFINITIONS, formatAnswerTable, refinePrecisionCheck } from './answer-report';
import { type AnswerSummary, relevantDocuments, scoreCitations, summarizeAnswers } from './answer-metrics';
import { runVariants } from './answer-runner';
import { type AnswerVariant, askGateway } from './ask-gateway';

// The tenant ingestThroughPipeline writes the corpus into.
const TENANT = 'eval';
const USAGE = 'usage: npm run eval:answers -- --dataset <BEIR folder> [--queries N] [--concurrency 2] [--split test] [--json out.json]';

const VARIANTS: AnswerVariant[] = [
  { name: 'refine loop on (agent default)', body: {} },
  { name: 'refine loop off (maxRefinements 0)', body: { maxRefinements: 0 } },
];

/** The caller's agent and model settings reach the services (the stack gives them only what it is told). */
function forwardedEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => /^(AGENT|LLM)_/.test(entry[0]) && entry[1] !== undefined));
}

function positiveInt(value: string | undefined, name: string, fallback: number | undefined): number | undefined {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`--${name} must be a positive integer, got "${value}"`);
  return parsed;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      dataset: { type: 'string' },
      queries: { type: 'string' },
      concurrency: { type: 'string' },
      split: { type: 'string', default: 'test' },
      json: { type: 'string' },
      'timeout-ms': { type: 'string' },
    },
  });
  if (!values.dataset) {
    console.error(USAGE);
    return 2;
  }
  const split = values.split;
  const qrelsFile = join(values.dataset, 'qrels', `${split}.tsv`);
  if (!existsSync(qrelsFile)) {
    const splits = existsSync(join(values.dataset, 'qrels')) ? readdirSync(join(values.dataset, 'qrels')).map((file) => file.replace(/\.tsv$/, '')) : [];
    console.error(`no ${qrelsFile}; splits in this dataset: ${splits.join(', ') || 'none'}\n${USAGE}`);
    return 2;
  }
  const limit = positiveInt(values.queries, 'queries', undefined);
  const concurrency = positiveInt(values.concurrency, 'concurrency', 2) as number;
  const timeoutMs = positiveInt(values['timeout-ms'], 'timeout-ms', 120_000) as number;

  const dataset = loadBeirDataset(values.dataset, split);
  const queries = limit === undefined ? dataset.queries : dataset.queries.slice(0, limit);
  const forwarded = forwardedEnv();
  console.log(`${dataset.name}: ${dataset.corpus.length} documents; split "${split}" (qrels/${split}.tsv): ${queries.length} of ${dataset.queries.length} judged queries, in file order`);
  console.log(
    split === 'test'
      ? 'reported on the test split: nothing in this run may have been tuned on it (tune AGENT_* settings on another split with --split)'
      : `split "${split}" is for tuning; report figures from --split test`,
  );
  console.log(`agent settings passed to the services: ${Object.keys(forwarded).length ? Object.entries(forwarded).map(([key, value]) => `${key}=${/KEY|TOKEN|SECRET/.test(key) ? '***' : value}`).join(' ') : 'none (agent defaults)'}`);

  const { stack, schema, stop } = await startIsolatedStack('evalans', {
    LOG_LEVEL: 'warn',
    WORKER_CONCURRENCY: process.env.EVAL_WORKER_CONCURRENCY ?? '4',
    RATE_LIMIT_PER_MINUTE: '0',
    // Each variant asks the same questions: no cache may answer the second asking from the first.
    ANSWER_CACHE_TTL_SECONDS: '0',
    RETRIEVAL_CACHE_TTL_SECONDS: '0',
    QUERY_EMBEDDING_CACHE_TTL_SECONDS: '0',
    LLM_RESPONSE_CACHE_TTL_SECONDS: '0',
    ...forwarded,
  });
  try {
    const ingestStarted = Date.now();
    const corpusIdOf = await ingestThroughPipeline(stack, dataset, { url: schema.url, schema: schema.schema });
    const ingestSeconds = (Date.now() - ingestStarted) / 1000;
    console.log(`ingested ${corpusIdOf.size} documents through the pipeline in ${ingestSeconds.toFixed(1)} s`);
    const target = { url: stack.gatewayUrl, apiKey: await stack.createApiKey(TENANT, 'read'), corpusIdOf, timeoutMs };

    const askStarted = Date.now();
    const runs = await runVariants(queries, VARIANTS, (query, variant) => askGateway(target, query, variant), {
      concurrency,
      onProgress: (done, total) => {
        if (done % 10 === 0 || done === total) process.stderr.write(`  ${done}/${total} queries asked\n`);
      },
    });
    const askSeconds = (Date.now() - askStarted) / 1000;

    const summaries = runs.map((run) => (run.unsupported === undefined ? summarizeAnswers(run.observations, run.failures, dataset.qrels) : undefined));
    console.log(`\nasked ${queries.length} queries × ${VARIANTS.length} variants, concurrency ${concurrency}, in ${askSeconds.toFixed(1)} s\n`);
    console.log(formatAnswerTable(runs.map((run, index) => ({ name: run.variant.name, summary: summaries[index], unsupported: run.unsupported }))));
    console.log(`\n${refinePrecisionCheck(summaries[0], summaries[1])}`);
    for (const run of runs) {
      if (run.unsupported) console.log(`${run.variant.name}: the gateway refused the request: ${run.unsupported}`);
      if (run.failures.length) console.log(`${run.variant.name}: ${run.failures.length} failed, first: ${run.failures[0].error}`);
    }
    console.log('\ndefinitions:');
    for (const definition of METRIC_DEFINITIONS) console.log(`  ${definition}`);
    if (queries.length < dataset.queries.length) {
      const estimate = ingestSeconds + (askSeconds / queries.length) * dataset.queries.length;
      console.log(`\nall ${dataset.queries.length} queries of the split at this pace: about ${(estimate / 60).toFixed(1)} min (ingestion included)`);
    }
    if (values.json) {
      const plain = (summary: AnswerSummary | undefined) => summary && { ...summary, routes: Object.fromEntries(summary.routes), refinements: Object.fromEntries(summary.refinements) };
      const out = {
        dataset: dataset.name,
        split,
        queries: queries.length,
        concurrency,
        agentEnv: Object.keys(forwarded),
        ingestSeconds,
        askSeconds,
        variants: runs.map((run, index) => ({
          name: run.variant.name,
          body: run.variant.body,
          unsupported: run.unsupported,
          summary: plain(summaries[index]),
          // Per query, so two runs (or two variants) can be compared answer by answer.
          answers: run.observations.map((observation) => ({ ...observation, ...scoreCitations(observation.citedDocuments, relevantDocuments(dataset.qrels.get(observation.queryId))) })),
          failures: run.failures,
        })),
      };
      writeFileSync(values.json, `${JSON.stringify(out, null, 2)}\n`);
    }
  } finally {
    await stop();
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error && error.message.startsWith('--') ? `${error.message}\n${USAGE}` : error);
    process.exit(1);
  },
);
