import type { QueryTrace } from '@quarry/contracts';
import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** The audit trail of one query (migration 1764800000000-query-traces). */
@Entity({ name: 'query_traces' })
export class QueryTraceEntity {
  /** The query id the reply named (QueryTrace.queryId). */
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  /** The exchange's tenant (a foreign key on (conversation_id, tenant_id) holds it to its conversation's). */
  @Column({ name: 'tenant_id', type: 'text' })
  tenantId!: string;

  @Column({ name: 'conversation_id', type: 'uuid' })
  conversationId!: string;

  @Column({ type: 'text' })
  question!: string;

  @Column({ type: 'jsonb' })
  trace!: QueryTrace;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
