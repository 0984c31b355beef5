import type { DocumentStatus } from '@quarry/contracts';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@Entity({ name: 'documents' })
export class DocumentEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'tenant_id', type: 'text' })
  tenantId!: string;

  @Column({ type: 'text' })
  filename!: string;

  @Column({ name: 'media_type', type: 'text' })
  mediaType!: string;

  @Column({ name: 'size_bytes', type: 'integer' })
  sizeBytes!: number;

  @Column({ type: 'char', length: 64 })
  sha256!: string;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  tags!: string[];

  @Column({ type: 'text', default: '/' })
  folder!: string;

  @Column({ type: 'text' })
  status!: DocumentStatus;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ name: 'chunk_count', type: 'integer', default: 0 })
  chunkCount!: number;

  /** The pipeline step the document is in (or last reached): parse, chunk, embed, index. */
  @Column({ type: 'text', nullable: true })
  stage!: string | null;

  @Column({ type: 'smallint', default: 0 })
  progress!: number;

  /** Summary, language, tags and structure found by document analysis. */
  @Column({ type: 'jsonb', nullable: true })
  analysis!: Record<string, unknown> | null;

  @Column({ name: 'page_count', type: 'integer', nullable: true })
  pageCount!: number | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ name: 'indexed_at', type: 'timestamptz', nullable: true })
  indexedAt!: Date | null;
}
