import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'chunks' })
export class ChunkEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'document_id', type: 'uuid' })
  documentId!: string;

  @Column({ name: 'tenant_id', type: 'text' })
  tenantId!: string;

  @Column({ type: 'integer' })
  ordinal!: number;

  @Column({ type: 'text' })
  text!: string;

  @Column({ name: 'token_count', type: 'integer' })
  tokenCount!: number;

  /** Where the chunk came from: character offsets, heading path, page numbers. */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  provenance!: Record<string, unknown>;

  /** Float32 little-endian vector; the embedded index is rebuilt from these. */
  @Column({ type: 'bytea' })
  embedding!: Buffer;

  @Column({ name: 'embedding_model', type: 'text' })
  embeddingModel!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
