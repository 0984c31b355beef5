import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The uploaded bytes, kept so any ingestion step can be retried without the client. */
@Entity({ name: 'document_contents' })
export class DocumentContentEntity {
  @PrimaryColumn({ name: 'document_id', type: 'uuid' })
  documentId!: string;

  @Column({ type: 'bytea' })
  bytes!: Buffer;
}
