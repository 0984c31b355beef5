import { ErrorCode, JobName, type SearchHit, type TaskParamsOf } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import { type BeirJudgements, type RankingScores, corpusIdOfFilename, loadBeirJudgements, meanScores, rankDocuments, scoreRanking } from '@quarry/eval';
import type { DocumentRepository } from '@quarry/persistence';
import type { JobClient } from '@quarry/transport';
import { resolveEvalDataset } from '../eval-dataset-path';
import { secondsSince } from '../elapsed';
import type { TaskHandler, TaskRunContext } from '../task-handler';

/** Searches in flight at once (the job client sends concurrent ones as batches). */
const IN_FLIGHT = 8;

type Params = TaskParamsOf<'eval.run'>;

/** Judged queries, and how a search hit is named in their judgements. */
interface EvalPlan {
  queries: Array<{ text: string; judged: Map<string, number> }>;
  idOf: (hit: SearchHit) => string | undefined;
  source: { kind: 'beir'; dataset: string; split: string } | { kind: 'questions' };
}

export interface EvalRunResult {
  source: EvalPlan['source'];
  mode: Params['mode'];
  queries: number;
  recallK: number;
  ndcgAt10: number;
  recallAtK: number;
  mrrAt10: number;
  /** Queries none of whose relevant documents came back in the top `recallK`. */
  queriesWithoutRelevantHit: number;
  /** Labelled questions only: each question's figures. */
  perQuestion?: Array<{ question: string } & RankingScores>;
  seconds: number;
}

/**
 * `eval.run`: retrieval quality of the tenant's corpus, measured through the real retrieval
 * service (retrieval.search for the tenant, as the agent searches). Either a BEIR folder's judged
 * queries — its corpus uploaded into the tenant as `<corpus id>.md`, as `npm run eval` uploads it,
 * so a hit's filename names the corpus document — or the tenant's own questions with the ids of
 * their relevant documents (looked up within the tenant first). nDCG@10, Recall@k and MRR@10.
 */
export class EvalRunTask implements TaskHandler<'eval.run'> {
  readonly type = 'eval.run';

  constructor(
    private readonly jobs: JobClient,
    private readonly documents: DocumentRepository,
    private readonly evalDataDir: string | undefined,
  ) {}

  async run(params: Params, context: TaskRunContext): Promise<EvalRunResult> {
    const started = performance.now();
    const plan = params.dataset === undefined ? await this.questionsPlan(params, context.tenantId) : this.beirPlan(params, params.dataset);
    const queries = plan.queries.slice(0, params.maxQueries);
    const scores: RankingScores[] = new Array<RankingScores>(queries.length);
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < queries.length) {
        context.signal.throwIfAborted();
        const index = next++;
        const reply = await this.jobs.request(JobName.SearchChunks, { tenantId: context.tenantId, query: queries[index].text, topK: Math.max(params.recallK, 10), mode: params.mode });
        scores[index] = scoreRanking(rankDocuments(reply.hits, plan.idOf), queries[index].judged, params.recallK);
        context.progress((++done / queries.length) * 100, `${done} of ${queries.length} queries searched`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, queries.length) }, worker));
    const means = meanScores(scores);
    return {
      source: plan.source,
      mode: params.mode,
      queries: queries.length,
      recallK: params.recallK,
      ndcgAt10: round(means.ndcgAt10),
      recallAtK: round(means.recallAtK),
      mrrAt10: round(means.mrrAt10),
      queriesWithoutRelevantHit: scores.filter((score) => score.recallAtK === 0).length,
      ...(plan.source.kind === 'questions' ? { perQuestion: scores.map((score, index) => ({ question: queries[index].text, ndcgAt10: round(score.ndcgAt10), recallAtK: round(score.recallAtK), mrrAt10: round(score.mrrAt10) })) } : {}),
      seconds: secondsSince(started),
    };
  }

  private beirPlan(params: Params, dataset: string): EvalPlan {
    const folder = resolveEvalDataset(this.evalDataDir, dataset);
    let judgements: BeirJudgements;
    try {
      judgements = loadBeirJudgements(folder, params.split);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      throw new DomainError(ErrorCode.NotFound, `dataset "${dataset}" is not a BEIR folder with queries.jsonl and qrels/${params.split}.tsv`);
    }
    const queries = judgements.queries.filter((query) => query.text.trim().length > 0).map((query) => ({ text: query.text, judged: judgements.qrels.get(query.id) as Map<string, number> }));
    if (queries.length === 0) throw new DomainError(ErrorCode.InvalidPayload, `dataset "${dataset}" has no judged queries in its ${params.split} split`);
    return { queries, idOf: (hit) => corpusIdOfFilename(hit.filename), source: { kind: 'beir', dataset, split: params.split } };
  }

  /** The tenant's labelled questions; every relevant document must be the tenant's own. */
  private async questionsPlan(params: Params, tenantId: string): Promise<EvalPlan> {
    const questions = params.questions ?? [];
    const named = [...new Set(questions.flatMap((question) => question.relevantDocumentIds))];
    const found = await this.documents.statusesOf(tenantId, named);
    const missing = named.find((id) => !found.has(id));
    if (missing) throw new DomainError(ErrorCode.NotFound, `document ${missing} not found`);
    return {
      queries: questions.map((question) => ({ text: question.question, judged: new Map(question.relevantDocumentIds.map((id) => [id, 1])) })),
      idOf: (hit) => hit.documentId,
      source: { kind: 'questions' },
    };
  }
}

const round = (value: number): number => Number(value.toFixed(4));
