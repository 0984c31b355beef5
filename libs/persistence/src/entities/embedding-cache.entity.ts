import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** Embeddings by model and content hash: re-ingestion and repeated chunks are not embedded again. */
@Entity({ name: 'embedding_cache' })
export class EmbeddingCacheEntity {
  @PrimaryColumn({ type: 'text' })
  model!: string;

  @PrimaryColumn({ name: 'content_sha256', type: 'char', length: 64 })
  contentSha256!: string;

  @Column({ type: 'bytea' })
  vector!: Buffer;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
