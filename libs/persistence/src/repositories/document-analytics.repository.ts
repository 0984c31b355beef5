import type { DataSource } from 'typeorm';

export interface CitedDocument {
  documentId: string;
  filename: string;
  /** Answers that cited it (an answer citing it twice counts once). */
  answers: number;
  lastCitedAt: string;
}

export interface UncitedDocument {
  documentId: string;
  filename: string;
  indexedAt: string | null;
}

// The document ids the tenant's answers since $2 cited, one row per (answer, document). Answers
// are the assistant messages of its conversations: every answer is kept there with its citations,
// cached ones included (the query log keeps only their number).
const CITATIONS = `SELECT DISTINCT m.id AS message_id, m.created_at, c.value->>'documentId' AS document_id
       FROM messages m CROSS JOIN LATERAL jsonb_array_elements(m.citations) AS c(value)
      WHERE m.tenant_id = $1 AND m.role = 'assistant' AND m.created_at >= $2`;

/** Which of a tenant's documents its answers use, for the operators' analytics (GET /api/analytics/documents). */
export class DocumentAnalyticsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The tenant's documents cited by the most answers since `since`, most cited first (deleted documents are left out). */
  async mostCited(tenantId: string, since: Date, limit: number): Promise<CitedDocument[]> {
    const rows: Array<{ id: string; filename: string; answers: string; last_cited_at: Date }> = await this.dataSource.query(
      `WITH cited AS (${CITATIONS})
       SELECT d.id, d.filename, count(*) AS answers, max(cited.created_at) AS last_cited_at
         FROM cited JOIN documents d ON d.tenant_id = $1 AND d.id::text = cited.document_id
        GROUP BY d.id, d.filename
        ORDER BY answers DESC, last_cited_at DESC, d.id
        LIMIT $3`,
      [tenantId, since, limit],
    );
    return rows.map((row) => ({ documentId: row.id, filename: row.filename, answers: Number(row.answers), lastCitedAt: row.last_cited_at.toISOString() }));
  }

  /** The tenant's indexed documents no answer since `since` cited, longest indexed first, with how many there are in all. */
  async neverCited(tenantId: string, since: Date, limit: number): Promise<{ total: number; items: UncitedDocument[] }> {
    const rows: Array<{ id: string; filename: string; indexed_at: Date | null; total: string }> = await this.dataSource.query(
      `WITH cited AS (${CITATIONS})
       SELECT d.id, d.filename, d.indexed_at, count(*) OVER () AS total
         FROM documents d
        WHERE d.tenant_id = $1 AND d.status = 'indexed'
          AND NOT EXISTS (SELECT 1 FROM cited WHERE cited.document_id = d.id::text)
        ORDER BY d.indexed_at NULLS FIRST, d.id
        LIMIT $3`,
      [tenantId, since, limit],
    );
    return {
      total: Number(rows[0]?.total ?? 0),
      items: rows.map((row) => ({ documentId: row.id, filename: row.filename, indexedAt: row.indexed_at?.toISOString() ?? null })),
    };
  }
}
