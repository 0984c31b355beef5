import type { DocumentStatus } from '@quarry/contracts';
import type { DataSource, EntityManager } from 'typeorm';
import { DocumentContentEntity } from '../entities/document-content.entity';
import { DocumentEntity } from '../entities/document.entity';
import { IndexChangeEntity } from '../entities/index-change.entity';
import { TenantEntity } from '../entities/tenant.entity';

export interface NewDocument {
  tenantId: string;
  filename: string;
  mediaType: string;
  sha256: string;
  tags: string[];
  folder: string;
}

export interface DocumentPage {
  items: DocumentEntity[];
  total: number;
}

/** Documents and their stored bytes. */
export class DocumentRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Stores the document row and its original bytes in one transaction (tenant created on first use). */
  async createWithContent(input: NewDocument, bytes: Buffer): Promise<DocumentEntity> {
    return this.dataSource.transaction(async (manager) => {
      await ensureTenant(manager, input.tenantId);
      const document = manager.create(DocumentEntity, { ...input, sizeBytes: bytes.length, status: 'queued', error: null });
      await manager.save(document);
      await manager.insert(DocumentContentEntity, { documentId: document.id, bytes });
      return document;
    });
  }

  findById(tenantId: string, id: string): Promise<DocumentEntity | null> {
    return this.dataSource.getRepository(DocumentEntity).findOneBy({ tenantId, id });
  }

  async list(tenantId: string, options: { status?: DocumentStatus; limit: number; offset: number }): Promise<DocumentPage> {
    const [items, total] = await this.dataSource.getRepository(DocumentEntity).findAndCount({
      where: { tenantId, ...(options.status ? { status: options.status } : {}) },
      order: { createdAt: 'DESC', id: 'ASC' },
      take: options.limit,
      skip: options.offset,
    });
    return { items, total };
  }

  async content(documentId: string): Promise<Buffer | null> {
    const row = await this.dataSource.getRepository(DocumentContentEntity).findOneBy({ documentId });
    return row?.bytes ?? null;
  }

  /** Moves a queued (or retried) document to processing; false if it is gone or already final. */
  async markProcessing(id: string): Promise<boolean> {
    const result = await this.dataSource
      .createQueryBuilder()
      .update(DocumentEntity)
      .set({ status: 'processing', error: null })
      .where('id = :id AND status IN (:...from)', { id, from: ['queued', 'processing'] })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  async markFailed(id: string, error: string): Promise<void> {
    await this.dataSource.getRepository(DocumentEntity).update({ id }, { status: 'failed', error: error.slice(0, 2000) });
  }

  /** Deletes the document, its bytes and chunks, and tells every retrieval replica to drop it. */
  async delete(tenantId: string, id: string): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const result = await manager.delete(DocumentEntity, { tenantId, id });
      if ((result.affected ?? 0) === 0) return false;
      await manager.insert(IndexChangeEntity, { tenantId, documentId: id, kind: 'delete' });
      return true;
    });
  }
}

export async function ensureTenant(manager: EntityManager, tenantId: string): Promise<void> {
  await manager.createQueryBuilder().insert().into(TenantEntity).values({ id: tenantId, name: tenantId }).orIgnore().execute();
}
