import type { DataSource } from 'typeorm';
import { QueryLogEntity } from '../entities/query-log.entity';

export type QueryLogEntry = Omit<QueryLogEntity, 'id' | 'createdAt'>;

/** The record of questions asked, per tenant. */
export class QueryLogRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Records one question of `entry.tenantId`. */
  async record(entry: QueryLogEntry): Promise<void> {
    // A copy: TypeORM writes the generated id back into the object it is given.
    await this.dataSource.getRepository(QueryLogEntity).insert({ ...entry });
  }

  /**
   * Deletes entries older than the retention window; returns how many went.
   * @allTenants system work: the scheduler's retention purge; it takes an age, never an id.
   */
  async purgeOlderThan(days: number): Promise<number> {
    const result: [unknown[], number] = await this.dataSource.query(
      `DELETE FROM query_log WHERE created_at < now() - make_interval(days => $1)`,
      [days],
    );
    return result[1];
  }

  /** Deletes the tenant's entries older than `days`; returns how many went (a tenant's own retention purge). */
  async purgeTenantOlderThan(tenantId: string, days: number): Promise<number> {
    const result: [unknown[], number] = await this.dataSource.query(`DELETE FROM query_log WHERE tenant_id = $1 AND created_at < now() - make_interval(days => $2)`, [tenantId, days]);
    return result[1];
  }

  /**
   * The tenant's most asked questions since `sinceDays` ago, most asked first: grouped by their
   * text with case and runs of whitespace folded (the caller may fold further), each with the
   * phrasing asked most and how often the group was asked.
   */
  async topQuestions(tenantId: string, limit: number, sinceDays: number): Promise<Array<{ question: string; asked: number }>> {
    const rows: Array<{ question: string; asked: string }> = await this.dataSource.query(
      `SELECT mode() WITHIN GROUP (ORDER BY question) AS question, count(*) AS asked
         FROM query_log
        WHERE tenant_id = $1 AND created_at >= now() - make_interval(days => $3)
        GROUP BY lower(regexp_replace(btrim(question), '[[:space:]]+', ' ', 'g'))
        ORDER BY asked DESC, question
        LIMIT $2`,
      [tenantId, limit, sinceDays],
    );
    return rows.map((row) => ({ question: row.question, asked: Number(row.asked) }));
  }

  /**
   * The tenants that asked a question in the last `sinceDays` days, those that asked most first.
   * @allTenants system work: the scheduler's cache warming decides whom to warm; it takes an age, never an id.
   */
  async activeTenants(sinceDays: number, limit = 1000): Promise<string[]> {
    const rows: Array<{ tenant_id: string }> = await this.dataSource.query(
      `SELECT tenant_id FROM query_log WHERE created_at >= now() - make_interval(days => $1) GROUP BY tenant_id ORDER BY count(*) DESC, tenant_id LIMIT $2`,
      [sinceDays, limit],
    );
    return rows.map((row) => row.tenant_id);
  }

  /** How many questions the tenant has on record. */
  count(tenantId: string): Promise<number> {
    return this.dataSource.getRepository(QueryLogEntity).countBy({ tenantId });
  }
}
