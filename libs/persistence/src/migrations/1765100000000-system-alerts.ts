import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Stored resource alerts (issue 12): every service's resource monitor (libs/service-kit
 * resources) writes each level change of a resource here, so operators can see what happened
 * after the logs have rotated (`GET /api/system/alerts`).
 *
 * One row is one stretch of one resource of one process at one level: raised when the level was
 * reached, cleared when it changed again — to `ok`, to the other level (a warning that becomes
 * critical ends the warning row and starts a critical one), or because the process stopped or was
 * restarted (`cleared_by` says which). So "active" is simply `cleared_at IS NULL`, and the partial
 * unique index holds a process to one open row per resource.
 *
 * System-wide, not tenant data: no tenant_id (the repository's methods are marked `@allTenants`).
 * Cleared rows are removed by `retention.purge` after SYSTEM_ALERTS_RETENTION_DAYS.
 */
export class SystemAlerts1765100000000 implements MigrationInterface {
  name = 'SystemAlerts1765100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE system_alerts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        service text NOT NULL,
        replica text NOT NULL,
        pid integer NOT NULL,
        resource text NOT NULL,
        level text NOT NULL CHECK (level IN ('warning', 'critical')),
        value double precision NOT NULL,
        threshold double precision NOT NULL,
        raised_at timestamptz NOT NULL,
        cleared_at timestamptz,
        cleared_value double precision,
        cleared_by text CHECK (cleared_by IN ('ok', 'warning', 'critical', 'shutdown', 'restart')),
        CHECK ((cleared_at IS NULL) = (cleared_by IS NULL))
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX system_alerts_open_idx ON system_alerts (service, replica, pid, resource) WHERE cleared_at IS NULL`);
    // The route lists newest first; the purge finds old cleared rows.
    await queryRunner.query(`CREATE INDEX system_alerts_raised_idx ON system_alerts (raised_at DESC, id)`);
    await queryRunner.query(`CREATE INDEX system_alerts_cleared_idx ON system_alerts (cleared_at) WHERE cleared_at IS NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE IF EXISTS system_alerts`);
  }
}
