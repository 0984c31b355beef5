import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { type DocumentStatus, ErrorCode, JobName, ingestJobId } from '@quarry/contracts';
import { DomainError, isDomainError, outageError } from '@quarry/domain';
import type { Logger } from '@quarry/observability';
import { type DataSource, DocumentRepository, ProcessingJobRepository, type QuotaDefaults, TenantQuotaRepository } from '@quarry/persistence';
import { DATA_SOURCE, JOB_CLIENT, LOGGER, SERVICE_CONFIG } from '@quarry/service-kit';
import type { JobClient } from '@quarry/transport';
import type { GatewayConfig } from '../config';
import { quotaDefaults, quotaRefusal } from '../limits/tenant-quota';
import { toDocumentView } from './document-view';
import type { DocumentDetail, DocumentPage, UploadResult } from './documents.schemas';
import { resolveMediaType } from './media-type';
import type { UploadedFile } from './upload-form';

export interface Placement {
  tags: string[];
  folder: string;
}

type StoredUpload = UploadResult & { sha256: string };

// BullMQ serves lower priority numbers first. A tenant's N-th waiting document gets priority N, so
// one tenant's big batch never starves another tenant's single upload (which gets priority 1).
const MAX_PRIORITY = 2_097_151;

/** Document use cases of the public API: upload (store, then queue ingestion), read, list, delete. */
@Injectable()
export class DocumentsService {
  private readonly documents: DocumentRepository;
  private readonly processing: ProcessingJobRepository;
  private readonly quotas: TenantQuotaRepository;
  private readonly quotaDefaults: QuotaDefaults;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(JOB_CLIENT) private readonly jobs: JobClient,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(SERVICE_CONFIG) config: Pick<GatewayConfig, 'TENANT_MAX_DOCUMENTS' | 'TENANT_MAX_STORED_BYTES'>,
  ) {
    this.documents = new DocumentRepository(dataSource);
    this.processing = new ProcessingJobRepository(dataSource);
    this.quotas = new TenantQuotaRepository(dataSource);
    this.quotaDefaults = quotaDefaults(config);
  }

  async upload(tenantId: string, file: UploadedFile, placement: Placement): Promise<UploadResult> {
    const [result] = await this.uploadMany(tenantId, [file], placement);
    if ('error' in result) throw result.error;
    return { documentId: result.documentId, jobId: result.jobId, status: result.status, duplicate: result.duplicate };
  }

  /**
   * Stores each file (one bad file fails alone, with its reason) and queues all new documents in
   * one round trip. Priorities follow the tenant's queue share: its N-th waiting document gets N.
   */
  async uploadMany(tenantId: string, files: UploadedFile[], placement: Placement): Promise<Array<UploadResult | { error: DomainError }>> {
    const results: Array<UploadResult | { error: DomainError }> = [];
    const created: StoredUpload[] = [];
    for (const file of files) {
      try {
        const result = await this.store(tenantId, file, placement);
        results.push(result);
        if (!result.duplicate) created.push(result);
      } catch (error) {
        if (!isDomainError(error)) throw error;
        results.push({ error });
      }
    }
    if (created.length === 0) return results;
    const alreadyWaiting = (await this.documents.inFlightCount(tenantId)) - created.length;
    try {
      await this.jobs.publishMany(
        JobName.IngestDocument,
        created.map((result, index) => ({
          payload: { tenantId, documentId: result.documentId, sha256: result.sha256 },
          options: { jobId: result.jobId, priority: Math.min(Math.max(alreadyWaiting, 0) + index + 1, MAX_PRIORITY) },
        })),
      );
    } catch (error) {
      // Not queued, so not accepted: the documents are removed again (bytes included), so that the
      // client's retry of the same upload is a fresh upload rather than a "duplicate" of a dead one.
      // If the database is down too, they stay `queued` and the reconciler queues them later.
      this.logger.error('enqueue failed after upload; discarding the stored documents', { documents: created.length, error: (error as Error).message });
      const ids = created.map((result) => result.documentId);
      await this.documents.discardUnqueued(tenantId, ids).catch((cleanup: unknown) => {
        this.logger.warn('could not discard the unqueued documents; the reconciler will queue them', { documents: ids, error: (cleanup as Error).message });
      });
      const unavailable = isDomainError(error) && error.code === ErrorCode.ServiceUnavailable ? error : outageError('redis');
      return results.map((result) => ('documentId' in result && created.includes(result as StoredUpload) ? { error: unavailable } : result));
    }
    return results;
  }

  private async store(tenantId: string, file: UploadedFile, placement: Placement): Promise<StoredUpload> {
    if (file.bytes.length === 0) throw new DomainError(ErrorCode.EmptyDocument, `"${file.filename}" is empty`);
    const mediaType = resolveMediaType(file.bytes, file.filename);
    const sha256 = createHash('sha256').update(file.bytes).digest('hex');
    // Checked against the tenant's quotas as it is stored (exact under concurrency; a duplicate
    // is always answered, even at the quota); a refused file leaves nothing behind.
    const stored = await this.quotas.createWithinQuota(
      { tenantId, filename: file.filename, mediaType, sha256, tags: placement.tags, folder: placement.folder },
      file.bytes,
      this.quotaDefaults,
    );
    if (stored.outcome === 'refused') throw quotaRefusal(tenantId, { filename: file.filename, size: file.bytes.length }, stored);
    const { document } = stored;
    return { documentId: document.id, jobId: ingestJobId(document.id, document.sha256), status: document.status, duplicate: stored.outcome === 'duplicate', sha256 };
  }

  async get(tenantId: string, id: string): Promise<DocumentDetail> {
    const document = await this.documents.findById(tenantId, id);
    if (!document) throw new DomainError(ErrorCode.NotFound, `document ${id} not found`);
    const runs = await this.processing.forDocument(tenantId, id);
    return {
      ...toDocumentView(document),
      processing: runs.map((run) => ({
        kind: run.kind,
        attempt: run.attempt,
        status: run.status,
        error: run.error,
        startedAt: run.startedAt.toISOString(),
        finishedAt: run.finishedAt?.toISOString() ?? null,
      })),
    };
  }

  async list(tenantId: string, query: { status?: DocumentStatus; limit: number; offset: number }): Promise<DocumentPage> {
    const page = await this.documents.list(tenantId, query);
    return { items: page.items.map(toDocumentView), total: page.total, limit: query.limit, offset: query.offset };
  }

  async delete(tenantId: string, id: string): Promise<void> {
    if (!(await this.documents.delete(tenantId, id))) throw new DomainError(ErrorCode.NotFound, `document ${id} not found`);
  }
}
