/**
 * The names the database tool's SQL may read, and what each shows of a real table. Each view is
 * bound, for every query, to a CTE over the real table filtered by the caller's tenant (`$1`), so
 * the SQL sees only the tenant's rows whatever it says; the tenant column itself is not shown.
 * Columns are listed (never `*`) so a column added to a table later is not exposed unnoticed.
 */
export interface AllowedView {
  name: string;
  table: string;
  /** Shown to the model: what a row is. */
  description: string;
  columns: ReadonlyArray<{ name: string; type: string; description: string }>;
}

export const ALLOWED_VIEWS: readonly AllowedView[] = [
  {
    name: 'documents',
    table: 'documents',
    description: 'one row per uploaded document',
    columns: [
      { name: 'id', type: 'uuid', description: 'document id' },
      { name: 'filename', type: 'text', description: 'file name as uploaded' },
      { name: 'media_type', type: 'text', description: 'MIME type, e.g. application/pdf' },
      { name: 'status', type: 'text', description: "queued, processing, indexed, failed or cancelled" },
      { name: 'error', type: 'text', description: 'why processing failed (null unless failed)' },
      { name: 'tags', type: 'text[]', description: "tags; test with 'x' = ANY(tags) or tags @> ARRAY['x']" },
      { name: 'folder', type: 'text', description: "folder path, e.g. '/' or '/contracts'" },
      { name: 'size_bytes', type: 'integer', description: 'file size in bytes' },
      { name: 'page_count', type: 'integer', description: 'pages (null when the format has none)' },
      { name: 'chunk_count', type: 'integer', description: 'indexed passages' },
      { name: 'created_at', type: 'timestamptz', description: 'upload time' },
      { name: 'updated_at', type: 'timestamptz', description: 'last change' },
      { name: 'indexed_at', type: 'timestamptz', description: 'when indexing finished (null until then)' },
    ],
  },
  {
    name: 'queries',
    table: 'query_log',
    description: 'one row per question answered',
    columns: [
      { name: 'id', type: 'uuid', description: 'query id' },
      { name: 'question', type: 'text', description: 'the question asked' },
      { name: 'hit_count', type: 'integer', description: 'passages retrieved' },
      { name: 'citation_count', type: 'integer', description: 'citations in the answer' },
      { name: 'generator', type: 'text', description: 'what wrote the answer (model name or local)' },
      { name: 'retrieval_ms', type: 'real', description: 'retrieval time in ms' },
      { name: 'generation_ms', type: 'real', description: 'answer generation time in ms' },
      { name: 'total_ms', type: 'real', description: 'total time in ms' },
      { name: 'created_at', type: 'timestamptz', description: 'when it was asked' },
    ],
  },
];

export const ALLOWED_VIEW_NAMES: ReadonlySet<string> = new Set(ALLOWED_VIEWS.map((view) => view.name));

/** The views as the tool's description tells them to a model: `documents(id uuid, filename text, …)`. */
export function describeViews(): string {
  return ALLOWED_VIEWS.map((view) => `${view.name} (${view.description}): ${view.columns.map((column) => `${column.name} ${column.type}`).join(', ')}`).join('. ');
}

/**
 * `WITH documents AS (SELECT … FROM "schema".documents WHERE tenant_id = $1), queries AS (…)`:
 * the tenant-filtered CTEs that shadow the real tables for the caller's SQL. The schema is named
 * when known; otherwise the unqualified name still means the real table, because a non-recursive
 * CTE is not visible inside its own body.
 */
export function tenantScopedViews(schema: string | undefined): string {
  const qualify = (table: string) => (schema ? `${quoteIdentifier(schema)}.${quoteIdentifier(table)}` : quoteIdentifier(table));
  return `WITH ${ALLOWED_VIEWS.map(
    (view) => `${quoteIdentifier(view.name)} AS (SELECT ${view.columns.map((column) => quoteIdentifier(column.name)).join(', ')} FROM ${qualify(view.table)} WHERE tenant_id = $1)`,
  ).join(', ')}`;
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
