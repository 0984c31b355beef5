import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * An append-only log of index changes. Every retrieval replica replays it from its own watermark,
 * so each replica sees every new or deleted document, however many replicas run.
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
