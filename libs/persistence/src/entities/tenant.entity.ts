import { Column, CreateDateColumn, Entity, PrimaryColumn, type ValueTransformer } from 'typeorm';

/** bigint arrives from pg as a string; quotas stay far below 2^53, so a number is exact. */
const nullableBigint: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};

@Entity({ name: 'tenants' })
export class TenantEntity {
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  /** The tenant's own document quota: null means the gateway's TENANT_MAX_DOCUMENTS, 0 no limit. */
  @Column({ name: 'max_documents', type: 'bigint', nullable: true, transformer: nullableBigint })
  maxDocuments!: number | null;

  /** The tenant's own quota of stored bytes: null means TENANT_MAX_STORED_BYTES, 0 no limit. */
  @Column({ name: 'max_stored_bytes', type: 'bigint', nullable: true, transformer: nullableBigint })
  maxStoredBytes!: number | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
