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

  /** How many questions the tenant has on record. */
  count(tenantId: string): Promise<number> {
    return this.dataSource.getRepository(QueryLogEntity).countBy({ tenantId });
  }
}
