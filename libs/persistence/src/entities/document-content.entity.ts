import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The uploaded bytes, kept so any ingestion step can be retried without the client. */
@Entity({ name: 'document_contents' })
export class DocumentContentEntity {
  @PrimaryColumn({ name: 'document_id', type: 'uuid' })
  documentId!: string;

  /** The owning document's tenant (a foreign key on (document_id, tenant_id) holds them equal). */
  @Column({ name: 'tenant_id', type: 'text' })
  tenantId!: string;

  @Column({ type: 'bytea' })
  bytes!: Buffer;
}
