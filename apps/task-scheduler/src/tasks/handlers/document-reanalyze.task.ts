import { ErrorCode, JobName, QueueName, ReanalyzeDocumentResult, type TaskParamsOf } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import type { DocumentRepository } from '@quarry/persistence';
import type { JobClient, QueueRegistry } from '@quarry/transport';
import { followJob } from '../followed-job';
import { secondsSince } from '../elapsed';
import type { TaskHandler, TaskRunContext } from '../task-handler';

/** Re-analyses queued on ingestion at a time: enough to keep its workers busy, few enough to leave room for uploads. */
const IN_FLIGHT = 4;
const PAGE = 1000;
/** Failures listed in the result (all are counted). */
const FAILURES_LISTED = 50;

export interface DocumentReanalyzeResult {
  documents: number;
  reanalyzed: number;
  /** Of those, analysed by the configured model (the rest heuristically). */
  byModel: number;
  failedCount: number;
  failed: Array<{ documentId: string; reason: string }>;
  seconds: number;
}

/**
 * `document.reanalyze`: document analysis again (ingestion.reanalyze-document) for the given
 * documents or all of the tenant's indexed ones. Given ids are looked up within the tenant before
 * anything is queued: one that is missing or another tenant's fails the task ("not found"), one not
 * indexed fails it too, and nothing is analysed. A document that fails on its own (deleted
 * meanwhile, a model endpoint down for good) is listed in the result; the task fails only when
 * none could be analysed.
 */
export class DocumentReanalyzeTask implements TaskHandler<'document.reanalyze'> {
  readonly type = 'document.reanalyze';

  constructor(
    private readonly documents: DocumentRepository,
    private readonly jobs: JobClient,
  ) {}

  async run(params: TaskParamsOf<'document.reanalyze'>, context: TaskRunContext): Promise<DocumentReanalyzeResult> {
    const started = performance.now();
    const ids = params.documentIds ? await this.checked(context.tenantId, [...new Set(params.documentIds)]) : await this.allIndexed(context.tenantId);
    const result: DocumentReanalyzeResult = { documents: ids.length, reanalyzed: 0, byModel: 0, failedCount: 0, failed: [], seconds: 0 };
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        context.signal.throwIfAborted();
        const documentId = ids[next++];
        const outcome = await this.reanalyze(documentId, context);
        if (outcome.ok) {
          result.reanalyzed++;
          if (outcome.result.method === 'llm') result.byModel++;
        } else {
          result.failedCount++;
          if (result.failed.length < FAILURES_LISTED) result.failed.push({ documentId, reason: outcome.reason });
        }
        const done = result.reanalyzed + result.failedCount;
        context.progress((done / ids.length) * 100, `${done} of ${ids.length} documents analysed`);
      }
    };
    const ends = await Promise.allSettled(Array.from({ length: Math.min(IN_FLIGHT, ids.length) }, worker));
    // Every worker has stopped (their waiting jobs taken back) before the stop or an error is passed on.
    context.signal.throwIfAborted();
    const broken = ends.find((end): end is PromiseRejectedResult => end.status === 'rejected');
    if (broken) throw broken.reason;
    if (result.reanalyzed === 0 && result.failedCount > 0) throw new Error(`no document could be analysed again; the first: ${result.failed[0].documentId}: ${result.failed[0].reason}`);
    return { ...result, seconds: secondsSince(started) };
  }

  /** The client's ids, each the tenant's own indexed document — or the task fails naming the first that is not. */
  private async checked(tenantId: string, ids: string[]): Promise<string[]> {
    const statuses = await this.documents.statusesOf(tenantId, ids);
    for (const id of ids) {
      const status = statuses.get(id);
      if (status === undefined) throw new DomainError(ErrorCode.NotFound, `document ${id} not found`);
      if (status !== 'indexed') throw new DomainError(ErrorCode.InvalidPayload, `document ${id} is ${status}: only indexed documents can be analysed again`);
    }
    return ids;
  }

  private async allIndexed(tenantId: string): Promise<string[]> {
    const ids: string[] = [];
    for (let page = await this.documents.indexedIds(tenantId, { limit: PAGE }); page.length > 0; page = await this.documents.indexedIds(tenantId, { after: page[page.length - 1], limit: PAGE })) {
      ids.push(...page);
      if (page.length < PAGE) break;
    }
    return ids;
  }

  private async reanalyze(documentId: string, context: TaskRunContext): Promise<{ ok: true; result: ReanalyzeDocumentResult } | { ok: false; reason: string }> {
    const jobId = `reanalyze-${context.taskId}-${context.attempt}-${documentId}`;
    await this.jobs.publish(JobName.ReanalyzeDocument, { tenantId: context.tenantId, documentId }, { jobId });
    const end = await followJob(this.jobs.proxy.unwrap<QueueRegistry>(), QueueName.Ingestion, jobId, context.signal);
    return end.state === 'completed' ? { ok: true, result: ReanalyzeDocumentResult.parse(end.value) } : { ok: false, reason: end.reason };
  }
}
