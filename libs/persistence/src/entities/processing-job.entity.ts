import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * `failed`: the step threw because of the document or a bug, and counts towards giving up on it.
 * `interrupted`: something else stopped it (a Postgres or Redis outage, a cancellation, a worker
 * shutting down); it does not count.
 */
export type ProcessingJobStatus = 'active' | 'completed' | 'failed' | 'interrupted';

/** One attempt of a pipeline job on a document, for the API and for operators. */
@Entity({ name: 'processing_jobs' })
export class ProcessingJobEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'document_id', type: 'uuid' })
  documentId!: string;

  /** The owning document's tenant (a foreign key on (document_id, tenant_id) holds them equal). */
  @Column({ name: 'tenant_id', type: 'text' })
  tenantId!: string;

  @Column({ name: 'queue_job_id', type: 'text' })
  queueJobId!: string;

  @Column({ type: 'text' })
  kind!: string;

  @Column({ type: 'text' })
  status!: ProcessingJobStatus;

  @Column({ type: 'integer' })
  attempt!: number;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ name: 'correlation_id', type: 'text', nullable: true })
  correlationId!: string | null;

  @CreateDateColumn({ name: 'started_at', type: 'timestamptz' })
  startedAt!: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}
