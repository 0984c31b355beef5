import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { type DocumentStatus, ErrorCode, JobName, ingestJobId } from '@quarry/contracts';
import { DomainError, isDomainError } from '@quarry/domain';
import type { Logger } from '@quarry/observability';
import { type DataSource, DocumentRepository, ProcessingJobRepository } from '@quarry/persistence';
import { DATA_SOURCE, JOB_CLIENT, LOGGER } from '@quarry/service-kit';
import type { JobClient } from '@quarry/transport';
import { type DocumentView, toDocumentView } from './document-view';
import { resolveMediaType } from './media-type';
import type { UploadedFile } from './upload-form';

export interface UploadResult {
  documentId: string;
  jobId: string;
  status: DocumentStatus;
  /** True when the tenant already had this content: the existing document is returned. */
  duplicate: boolean;
}

// BullMQ serves lower priority numbers first. A tenant's N-th waiting document gets priority N, so
// one tenant's big batch never starves another tenant's single upload (which gets priority 1).
const MAX_PRIORITY = 2_097_151;

/** Document use cases of the public API: upload (store, then queue ingestion), read, list, delete. */
@Injectable()
export class DocumentsService {
  private readonly documents: DocumentRepository;
  private readonly processing: ProcessingJobRepository;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(JOB_CLIENT) private readonly jobs: JobClient,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.documents = new DocumentRepository(dataSource);
    this.processing = new ProcessingJobRepository(dataSource);
  }

  async upload(tenantId: string, file: UploadedFile, placement: { tags: string[]; folder: string }): Promise<UploadResult> {
    if (file.bytes.length === 0) throw new DomainError(ErrorCode.EmptyDocument, `"${file.filename}" is empty`);
    const mediaType = resolveMediaType(file.bytes, file.filename);
    const sha256 = createHash('sha256').update(file.bytes).digest('hex');
    const { document, created } = await this.documents.createOrFindLive(
      { tenantId, filename: file.filename, mediaType, sha256, tags: placement.tags, folder: placement.folder },
      file.bytes,
    );
    const jobId = ingestJobId(document.id, document.sha256.trim());
    if (!created) return { documentId: document.id, jobId, status: document.status, duplicate: true };
    try {
      const priority = Math.min(await this.documents.inFlightCount(tenantId), MAX_PRIORITY);
      await this.jobs.publish(JobName.IngestDocument, { tenantId, documentId: document.id, sha256 }, { jobId, priority });
    } catch (error) {
      // The bytes are stored, so nothing is lost; the document says why it is not being processed.
      const reason = `could not be queued for ingestion: ${(error as Error).message}`;
      await this.documents.markFailed(document.id, reason);
      this.logger.error('enqueue failed after upload', { documentId: document.id, error: (error as Error).message });
      throw new DomainError(ErrorCode.ServiceUnavailable, `the document was stored but ${reason}`);
    }
    return { documentId: document.id, jobId, status: document.status, duplicate: false };
  }

  /** Uploads each file on its own: one bad file fails alone, with its reason, and the rest go on. */
  async uploadMany(tenantId: string, files: UploadedFile[], placement: { tags: string[]; folder: string }) {
    const results = [];
    for (const file of files) {
      try {
        results.push({ filename: file.filename, ...(await this.upload(tenantId, file, placement)) });
      } catch (error) {
        if (!isDomainError(error)) throw error;
        results.push({ filename: file.filename, error: { code: error.code, message: error.message } });
      }
    }
    return { documents: results };
  }

  async get(tenantId: string, id: string): Promise<DocumentView & { processing: unknown[] }> {
    const document = await this.documents.findById(tenantId, id);
    if (!document) throw new DomainError(ErrorCode.NotFound, `document ${id} not found`);
    const runs = await this.processing.forDocument(id);
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

  async list(tenantId: string, query: { status?: DocumentStatus; limit: number; offset: number }) {
    const page = await this.documents.list(tenantId, query);
    return { items: page.items.map(toDocumentView), total: page.total, limit: query.limit, offset: query.offset };
  }

  async delete(tenantId: string, id: string): Promise<void> {
    if (!(await this.documents.delete(tenantId, id))) throw new DomainError(ErrorCode.NotFound, `document ${id} not found`);
  }
}
