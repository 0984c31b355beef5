import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Background tasks (issue 12): the record of each task the task-scheduler runs (libs/contracts
 * task.contract.ts). Tenant-owned: every read and write goes by (id, tenant_id), and a task's
 * dependencies can only name tasks of its own tenant (checked on submit; the dependency table's
 * foreign key on (depends_on, tenant_id) holds it).
 *
 * `run_token` names the run in progress: a worker updates its task only while the token is its
 * own, so a run that was cancelled, timed out or taken over after a crash cannot overwrite what
 * came after it.
 */
export class Tasks1765000000000 implements MigrationInterface {
  name = 'Tasks1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE tasks (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        type text NOT NULL,
        params jsonb NOT NULL DEFAULT '{}',
        priority text NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'critical')),
        status text NOT NULL CHECK (status IN ('pending', 'scheduled', 'waiting', 'running', 'completed', 'failed', 'cancelled')),
        progress real NOT NULL DEFAULT 0,
        progress_message text,
        result jsonb,
        error text,
        attempts integer NOT NULL DEFAULT 0,
        max_retries integer NOT NULL,
        timeout_seconds integer NOT NULL,
        run_at timestamptz,
        cron text,
        next_run_at timestamptz,
        metadata jsonb NOT NULL DEFAULT '{}',
        idempotency_key text,
        run_token text,
        usage jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT tasks_id_tenant_key UNIQUE (id, tenant_id)
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX tasks_idempotency_idx ON tasks (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX tasks_tenant_created_idx ON tasks (tenant_id, created_at DESC, id)`);
    await queryRunner.query(`CREATE INDEX tasks_status_idx ON tasks (status) WHERE status NOT IN ('completed', 'failed', 'cancelled')`);
    await queryRunner.query(`
      CREATE TABLE task_dependencies (
        task_id uuid NOT NULL,
        depends_on uuid NOT NULL,
        tenant_id text NOT NULL,
        required_status text NOT NULL CHECK (required_status IN ('completed', 'failed', 'cancelled')),
        ordinal integer NOT NULL,
        PRIMARY KEY (task_id, depends_on),
        FOREIGN KEY (task_id, tenant_id) REFERENCES tasks (id, tenant_id) ON DELETE CASCADE,
        FOREIGN KEY (depends_on, tenant_id) REFERENCES tasks (id, tenant_id) ON DELETE CASCADE
      )`);
    // A task that ends finds the tasks waiting for it by this.
    await queryRunner.query(`CREATE INDEX task_dependencies_depends_on_idx ON task_dependencies (depends_on, tenant_id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE IF EXISTS task_dependencies`);
    await queryRunner.query(`DROP TABLE IF EXISTS tasks`);
  }
}
