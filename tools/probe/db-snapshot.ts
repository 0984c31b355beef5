import { Client } from 'pg';
import type { TenantSnapshot } from './row-ledger';

/**
 * Every table that holds a tenant's rows, with its primary key and how to select one tenant's rows
 * (libs/persistence/src/entities and the migrations). The embedding cache and embedding versions
 * are shared by all tenants and hold nothing of one tenant.
 */
const TENANT_TABLES: Record<string, { key: string[]; select: string }> = {
  tenants: { key: ['id'], select: 'SELECT * FROM tenants WHERE id = $1' },
  documents: { key: ['id'], select: 'SELECT * FROM documents WHERE tenant_id = $1' },
  document_contents: { key: ['document_id'], select: 'SELECT * FROM document_contents WHERE tenant_id = $1' },
  document_artifacts: { key: ['document_id', 'kind'], select: 'SELECT * FROM document_artifacts WHERE tenant_id = $1' },
  chunks: { key: ['id'], select: 'SELECT * FROM chunks WHERE tenant_id = $1' },
  chunk_vectors: { key: ['version_id', 'chunk_id'], select: 'SELECT v.* FROM chunk_vectors v JOIN chunks c ON c.id = v.chunk_id WHERE c.tenant_id = $1' },
  index_changes: { key: ['seq'], select: 'SELECT * FROM index_changes WHERE tenant_id = $1' },
  processing_jobs: { key: ['id'], select: 'SELECT * FROM processing_jobs WHERE tenant_id = $1' },
  conversations: { key: ['id'], select: 'SELECT * FROM conversations WHERE tenant_id = $1' },
  messages: { key: ['id'], select: 'SELECT * FROM messages WHERE tenant_id = $1' },
  api_keys: { key: ['id'], select: 'SELECT * FROM api_keys WHERE tenant_id = $1' },
  query_log: { key: ['id'], select: 'SELECT * FROM query_log WHERE tenant_id = $1' },
  tasks: { key: ['id'], select: 'SELECT * FROM tasks WHERE tenant_id = $1' },
  task_dependencies: { key: ['task_id', 'depends_on'], select: 'SELECT * FROM task_dependencies WHERE tenant_id = $1' },
};

/** Reads tenants' rows from one stack's schema (bytea as hex, timestamps as ISO text). */
export class SnapshotReader {
  private readonly client: Client;

  constructor(databaseUrl: string, private readonly schema: string) {
    this.client = new Client({ connectionString: databaseUrl });
  }

  async open(): Promise<void> {
    await this.client.connect();
    await this.client.query(`SET search_path TO "${this.schema}"`);
  }

  async snapshot(tenantId: string): Promise<TenantSnapshot> {
    const snapshot: TenantSnapshot = {};
    for (const [table, { key, select }] of Object.entries(TENANT_TABLES)) {
      const { rows } = await this.client.query<{ row: Record<string, unknown> }>(`SELECT to_jsonb(t) AS row FROM (${select}) t`, [tenantId]);
      snapshot[table] = Object.fromEntries(rows.map(({ row }) => [key.map((column) => String(row[column])).join('/'), row]));
    }
    return snapshot;
  }

  close(): Promise<void> {
    return this.client.end();
  }
}
