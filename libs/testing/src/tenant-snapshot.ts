import { Client } from 'pg';

/** One table's rows of a tenant, by primary key, each as Postgres serialises it to JSON. */
export type TableRows = Record<string, Record<string, unknown>>;
export type TenantSnapshot = Record<string, TableRows>;

/**
 * Every table that holds a tenant's rows, with its primary key and how to select one tenant's
 * rows (libs/persistence/src/entities and the migrations). The embedding cache and the embedding
 * versions are shared by all tenants and hold no tenant data of their own.
 */
const TENANT_TABLES: Record<string, { key: string[]; select: string }> = {
  tenants: { key: ['id'], select: 'SELECT * FROM tenants WHERE id = $1' },
  documents: { key: ['id'], select: 'SELECT * FROM documents WHERE tenant_id = $1' },
  document_contents: { key: ['document_id'], select: 'SELECT * FROM document_contents WHERE tenant_id = $1' },
  document_artifacts: { key: ['document_id', 'kind'], select: 'SELECT * FROM document_artifacts WHERE tenant_id = $1' },
  chunks: { key: ['id'], select: 'SELECT * FROM chunks WHERE tenant_id = $1' },
  chunk_vectors: {
    key: ['version_id', 'chunk_id'],
    select: 'SELECT v.* FROM chunk_vectors v JOIN chunks c ON c.id = v.chunk_id WHERE c.tenant_id = $1',
  },
  index_changes: { key: ['seq'], select: 'SELECT * FROM index_changes WHERE tenant_id = $1' },
  processing_jobs: { key: ['id'], select: 'SELECT * FROM processing_jobs WHERE tenant_id = $1' },
  conversations: { key: ['id'], select: 'SELECT * FROM conversations WHERE tenant_id = $1' },
  messages: { key: ['id'], select: 'SELECT * FROM messages WHERE tenant_id = $1' },
  api_keys: { key: ['id'], select: 'SELECT * FROM api_keys WHERE tenant_id = $1' },
  query_log: { key: ['id'], select: 'SELECT * FROM query_log WHERE tenant_id = $1' },
  query_traces: { key: ['id'], select: 'SELECT * FROM query_traces WHERE tenant_id = $1' },
  tasks: { key: ['id'], select: 'SELECT * FROM tasks WHERE tenant_id = $1' },
  task_dependencies: { key: ['task_id', 'depends_on'], select: 'SELECT * FROM task_dependencies WHERE tenant_id = $1' },
};

export const SNAPSHOT_TABLES = Object.keys(TENANT_TABLES);

/** Reads tenants' rows from one schema over one connection (bytea as hex, timestamps as ISO text); `tables` narrows the tables read. */
export class SnapshotReader {
  private readonly client: Client;

  constructor(
    databaseUrl: string,
    private readonly schema: string,
    private readonly tables: readonly string[] = SNAPSHOT_TABLES,
  ) {
    this.client = new Client({ connectionString: databaseUrl });
  }

  async open(): Promise<void> {
    await this.client.connect();
    await this.client.query(`SET search_path TO "${this.schema}"`);
  }

  async snapshot(tenantId: string): Promise<TenantSnapshot> {
    const snapshot: TenantSnapshot = {};
    for (const table of this.tables) {
      const { key, select } = TENANT_TABLES[table];
      const { rows } = await this.client.query<{ row: Record<string, unknown> }>(`SELECT to_jsonb(t) AS row FROM (${select}) t`, [tenantId]);
      snapshot[table] = Object.fromEntries(rows.map(({ row }) => [key.map((column) => String(row[column])).join('/'), row]));
    }
    return snapshot;
  }

  close(): Promise<void> {
    return this.client.end();
  }
}

/** Everything Postgres holds for the tenant, table by table, on a connection of its own. */
export async function snapshotTenant(databaseUrl: string, schema: string, tenantId: string): Promise<TenantSnapshot> {
  const reader = new SnapshotReader(databaseUrl, schema);
  await reader.open();
  try {
    return await reader.snapshot(tenantId);
  } finally {
    await reader.close();
  }
}

/** What differs between two snapshots, one line per row: deleted, added, or changed (with the columns). */
export function diffSnapshots(before: TenantSnapshot, after: TenantSnapshot): string[] {
  const changes: string[] = [];
  for (const table of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const old = before[table] ?? {};
    const now = after[table] ?? {};
    for (const [key, row] of Object.entries(old)) {
      const current = now[key];
      if (!current) {
        changes.push(`${table} ${key}: deleted`);
        continue;
      }
      const columns = [...new Set([...Object.keys(row), ...Object.keys(current)])].filter((column) => JSON.stringify(row[column]) !== JSON.stringify(current[column]));
      if (columns.length > 0) changes.push(`${table} ${key}: changed ${columns.map((column) => `${column} ${JSON.stringify(row[column])} → ${JSON.stringify(current[column])}`).join(', ')}`);
    }
    for (const key of Object.keys(now)) if (!(key in old)) changes.push(`${table} ${key}: added`);
  }
  return changes;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The strings that identify the tenant's rows and must never reach another tenant: every id
 * (documents, chunks, conversations, messages, keys, query log), filenames, content hashes, key
 * prefixes and hashes, conversation titles. Markers planted in the content are added by the caller.
 */
export function identifyingStrings(snapshot: TenantSnapshot): string[] {
  const found = new Set<string>();
  for (const rows of Object.values(snapshot)) {
    for (const row of Object.values(rows)) {
      for (const [column, value] of Object.entries(row)) {
        if (typeof value !== 'string') continue;
        const text = value.trim();
        if (UUID.test(text) || ['filename', 'sha256', 'display_prefix', 'key_hash', 'title', 'queue_job_id'].includes(column)) found.add(text);
      }
    }
  }
  return [...found].filter((text) => text.length >= 8);
}
