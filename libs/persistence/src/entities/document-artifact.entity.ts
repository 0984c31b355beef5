import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

export type ArtifactKind = 'parsed' | 'chunks' | 'embeddings';

/** The output of one pipeline step, kept until indexing so a retry re-runs only the failed step. */
@Entity({ name: 'document_artifacts' })
export class DocumentArtifactEntity {
  @PrimaryColumn({ name: 'document_id', type: 'uuid' })
  documentId!: string;

  /** The owning document's tenant (a foreign key on (document_id, tenant_id) holds them equal). */
  @Column({ name: 'tenant_id', type: 'text' })
  tenantId!: string;

  @PrimaryColumn({ type: 'text' })
  kind!: ArtifactKind;

  /** The content the artifact was made from; an artifact of other content is ignored. */
  @Column({ type: 'char', length: 64 })
  sha256!: string;

  @Column({ type: 'jsonb', nullable: true })
  data!: unknown;

  @Column({ type: 'bytea', nullable: true })
  bytes!: Buffer | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
