import type { DataSource } from 'typeorm';

/** The process an alert belongs to: service name, replica (host name) and process id. */
export interface AlertOrigin {
  service: string;
  replica: string;
  pid: number;
}

export type StoredAlertLevel = 'warning' | 'critical';

/** A resource of a process changing level: `ok` ends its open alert, another level also starts one. */
export interface AlertTransition {
  origin: AlertOrigin;
  resource: string;
  level: 'ok' | StoredAlertLevel;
  value: number;
  /** The threshold the new level was reached at (null for `ok`). */
  threshold: number | null;
  /** When the monitor saw it (a write held back by an outage keeps the moment it happened). */
  at: Date;
}

export interface StoredAlert {
  id: string;
  service: string;
  replica: string;
  pid: number;
  resource: string;
  level: StoredAlertLevel;
  value: number;
  threshold: number;
  raisedAt: string;
  clearedAt: string | null;
  clearedValue: number | null;
  clearedBy: 'ok' | 'warning' | 'critical' | 'shutdown' | 'restart' | null;
}

export interface AlertListFilter {
  /** `active`: not cleared; `all`: cleared ones too. */
  state: 'active' | 'all';
  /** Only alerts in force at some moment since then: still active, or cleared after it. */
  since?: Date;
  limit: number;
}

interface AlertRow {
  id: string;
  service: string;
  replica: string;
  pid: number;
  resource: string;
  level: StoredAlertLevel;
  value: number;
  threshold: number;
  raised_at: Date;
  cleared_at: Date | null;
  cleared_value: number | null;
  cleared_by: StoredAlert['clearedBy'];
}

const SELECTED = 'id, service, replica, pid, resource, level, value, threshold, raised_at, cleared_at, cleared_value, cleared_by';

function toStored(row: AlertRow): StoredAlert {
  return {
    id: row.id,
    service: row.service,
    replica: row.replica,
    pid: row.pid,
    resource: row.resource,
    level: row.level,
    value: row.value,
    threshold: row.threshold,
    raisedAt: row.raised_at.toISOString(),
    clearedAt: row.cleared_at?.toISOString() ?? null,
    clearedValue: row.cleared_value,
    clearedBy: row.cleared_by,
  };
}

/**
 * The resource alerts of every service process (migration 1765100000000-system-alerts). Alerts
 * are the installation's, not a tenant's: no method takes a tenant, and none takes an id a client
 * chose — writes come from the services' own monitors, reads serve admin keys.
 */
export class SystemAlertRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Ends the resource's open alert (if any) and, unless the level is `ok`, starts one at the new
   * level — in one transaction, so a reader never sees two open alerts for one resource. (Two
   * statements: in one, the insert's unique check still sees the row the same statement ends.)
   * @allTenants system work: a service's resource monitor; alerts belong to no tenant.
   */
  async recordTransition(transition: AlertTransition): Promise<void> {
    const { origin, resource, level, value, threshold, at } = transition;
    const resourceOf = [origin.service, origin.replica, origin.pid, resource];
    await this.dataSource.transaction(async (manager) => {
      await manager.query(
        `UPDATE system_alerts SET cleared_at = $5, cleared_value = $6, cleared_by = $7
          WHERE service = $1 AND replica = $2 AND pid = $3 AND resource = $4 AND cleared_at IS NULL`,
        [...resourceOf, at, value, level],
      );
      if (level === 'ok') return;
      await manager.query(`INSERT INTO system_alerts (service, replica, pid, resource, level, value, threshold, raised_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, [
        ...resourceOf,
        level,
        value,
        threshold,
        at,
      ]);
    });
  }

  /**
   * Ends every open alert of the process (it is stopping: nothing watches those resources any more).
   * @allTenants system work: a service's own shutdown; alerts belong to no tenant.
   */
  async closeOpenOf(origin: AlertOrigin): Promise<number> {
    const result: [unknown[], number] = await this.dataSource.query(
      `UPDATE system_alerts SET cleared_at = now(), cleared_by = 'shutdown' WHERE service = $1 AND replica = $2 AND pid = $3 AND cleared_at IS NULL`,
      [origin.service, origin.replica, origin.pid],
    );
    return result[1];
  }

  /**
   * Ends the open alerts that earlier processes of this service on this replica left behind (a
   * crash or a kill never cleared them); the process now running watches those resources afresh.
   * @allTenants system work: a service's own boot; alerts belong to no tenant.
   */
  async closeLeftBehind(origin: AlertOrigin): Promise<number> {
    const result: [unknown[], number] = await this.dataSource.query(
      `UPDATE system_alerts SET cleared_at = now(), cleared_by = 'restart' WHERE service = $1 AND replica = $2 AND pid <> $3 AND cleared_at IS NULL`,
      [origin.service, origin.replica, origin.pid],
    );
    return result[1];
  }

  /**
   * Alerts newest first (by when they were raised).
   * @allTenants system work: the operators' view of every service; alerts belong to no tenant.
   */
  async list(filter: AlertListFilter): Promise<StoredAlert[]> {
    const rows: AlertRow[] = await this.dataSource.query(
      `SELECT ${SELECTED} FROM system_alerts
        WHERE ($1::boolean IS FALSE OR cleared_at IS NULL)
          AND ($2::timestamptz IS NULL OR cleared_at IS NULL OR cleared_at >= $2)
        ORDER BY raised_at DESC, id DESC
        LIMIT $3`,
      [filter.state === 'active', filter.since ?? null, filter.limit],
    );
    return rows.map(toStored);
  }

  /**
   * Deletes alerts cleared more than `days` ago; returns how many went.
   * @allTenants system work: the retention purge; it takes an age, never an id.
   */
  async purgeClearedOlderThan(days: number): Promise<number> {
    const result: [unknown[], number] = await this.dataSource.query(`DELETE FROM system_alerts WHERE cleared_at < now() - make_interval(days => $1)`, [days]);
    return result[1];
  }
}
