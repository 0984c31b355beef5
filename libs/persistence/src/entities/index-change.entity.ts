import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * An append-only log of index changes. Every retrieval replica replays it from its own watermark,
 * so each replica sees every new or deleted document, however many replicas run.
 *
 * The table also has `tx_id xid8 NOT NULL DEFAULT pg_current_xact_id()`: the id of the transaction
 * that wrote the change, which makes the feed gapless (migration 1764000000000, and
 * `ChunkRepository.changesAfter`). It is not mapped here: TypeORM has no xid8 type, Postgres fills
 * it on every insert, and only ChunkRepository reads it, with SQL of its own.
 */
@Entity({ name: 'index_changes' })
export class IndexChangeEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  seq!: string;

  @Column({ name: 'tenant_id', type: 'text' })
  tenantId!: string;

  @Column({ name: 'document_id', type: 'uuid' })
  documentId!: string;

  @Column({ type: 'text' })
  kind!: 'upsert' | 'delete';

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
