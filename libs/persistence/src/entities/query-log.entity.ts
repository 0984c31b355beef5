import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'query_log' })
export class QueryLogEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'tenant_id', type: 'text' })
  tenantId!: string;

  @Column({ type: 'text' })
  question!: string;

  @Column({ name: 'hit_count', type: 'integer' })
  hitCount!: number;

  @Column({ name: 'citation_count', type: 'integer' })
  citationCount!: number;

  @Column({ type: 'text' })
  generator!: string;

  @Column({ name: 'retrieval_ms', type: 'real' })
  retrievalMs!: number;

  @Column({ name: 'generation_ms', type: 'real' })
  generationMs!: number;

  @Column({ name: 'total_ms', type: 'real' })
  totalMs!: number;

  @Column({ name: 'correlation_id', type: 'text', nullable: true })
  correlationId!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
