import { randomUUID } from 'node:crypto';
import type { TaskDependency, TaskPriority, TaskStatus, TaskType, TaskView, TaskWebhook, TaskWebhookDelivery } from '@quarry/contracts';
import type { DataSource } from 'typeorm';

/** A task as the task-scheduler stores it on submit (validated and defaulted by SubmitTaskRequest). */
export interface NewTask {
  tenantId: string;
  type: TaskType;
  params: Record<string, unknown>;
  priority: TaskPriority;
  status: Extract<TaskStatus, 'pending' | 'scheduled' | 'waiting'>;
  dependsOn: TaskDependency[];
  runAt: Date | null;
  cron: string | null;
  nextRunAt: Date | null;
  timeoutSeconds: number;
  maxRetries: number;
  metadata: Record<string, unknown>;
  idempotencyKey: string | null;
  webhook: TaskWebhook | null;
}

/** How a run ended, as the worker that held it reports it. */
export interface RunOutcome {
  status: Extract<TaskStatus, 'completed' | 'failed' | 'scheduled'>;
  result?: unknown;
  error?: string | null;
  nextRunAt?: Date | null;
  usage: { durationMs: number; cpuMs: number };
}

/** A task whose queue job may be lost: a run to queue (pending, or scheduled and overdue), or a push of its end. */
export interface TaskNeedingJob {
  tenantId: string;
  id: string;
  priority: TaskPriority;
  status: TaskStatus;
  attempts: number;
  need: 'run' | 'push';
}

/** What a submit stored: the task, or — `created: false` — the one already stored under its idempotency key. */
export interface StoredTask {
  task: TaskView;
  created: boolean;
  /** A new task: how many of the tenant's tasks of its priority were pending before it (its turn). */
  pendingAhead?: number;
}

/** A dependency of a task and where it stands. */
export interface DependencyState extends TaskDependency {
  status: TaskStatus;
}

export interface TaskListFilter {
  status?: TaskStatus;
  type?: string;
  limit: number;
  /** Tasks created before this one (the previous page's last id). */
  after?: string;
}

const FINAL = `('completed', 'failed', 'cancelled')`;
const COLUMNS = `id::text, type, params, priority, status, progress, progress_message, result, error, attempts, max_retries, timeout_seconds,
  run_at, cron, next_run_at, metadata, idempotency_key, created_at, started_at, finished_at, usage, webhook_url, webhook_delivery`;

interface TaskRow {
  id: string;
  type: TaskType;
  params: Record<string, unknown>;
  priority: TaskPriority;
  status: TaskStatus;
  progress: number;
  progress_message: string | null;
  result: unknown;
  error: string | null;
  attempts: number;
  max_retries: number;
  timeout_seconds: number;
  run_at: Date | null;
  cron: string | null;
  next_run_at: Date | null;
  metadata: Record<string, unknown>;
  idempotency_key: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  usage: TaskView['usage'];
  webhook_url: string | null;
  webhook_delivery: TaskWebhookDelivery | null;
  depends_on?: TaskDependency[] | null;
}

const iso = (value: Date | null) => (value ? value.toISOString() : null);

function toView(row: TaskRow): TaskView {
  return {
    id: row.id,
    type: row.type,
    params: row.params,
    priority: row.priority,
    status: row.status,
    progress: row.progress,
    progressMessage: row.progress_message,
    result: row.result ?? null,
    error: row.error,
    attempts: row.attempts,
    maxRetries: row.max_retries,
    timeoutSeconds: row.timeout_seconds,
    dependsOn: row.depends_on ?? [],
    runAt: iso(row.run_at),
    cron: row.cron,
    nextRunAt: iso(row.next_run_at),
    metadata: row.metadata,
    idempotencyKey: row.idempotency_key,
    createdAt: row.created_at.toISOString(),
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    usage: row.usage,
    webhook: row.webhook_url === null ? null : { url: row.webhook_url, delivery: row.webhook_delivery },
  };
}

// The task's dependencies, in the order they were given, as TaskView names them.
const WITH_DEPENDENCIES = `(SELECT coalesce(jsonb_agg(jsonb_build_object('taskId', d.depends_on, 'requiredStatus', d.required_status) ORDER BY d.ordinal), '[]')
   FROM task_dependencies d WHERE d.task_id = t.id AND d.tenant_id = t.tenant_id) AS depends_on`;

// What every read and every write's RETURNING hands back: the row and its dependencies, in one statement.
const SELECTED = `${COLUMNS.replace(/(^|,\s*)(\w+)/g, '$1t.$2')}, ${WITH_DEPENDENCIES}`;

// Set by every write that ends a task: a task with a webhook ends with its push pending, in the
// same statement, so a push is never forgotten between the end and its delivery job.
const DELIVERY_PENDING_ON_END = (ends: string) =>
  `webhook_delivery = CASE WHEN (${ends}) AND webhook_url IS NOT NULL
     THEN '{"status":"pending","attempts":0,"responseStatus":null,"error":null,"deliveredAt":null}'::jsonb ELSE webhook_delivery END`;

/**
 * Turns are counted up to this many of a tenant's pending tasks: the count reads the rows (fresh
 * ones are not yet all-visible to an index-only scan), so an unbounded count made every submit
 * slower as one tenant's backlog grew. Past it, a tenant's tasks share the last turn, after every
 * other tenant's first TURN_DEPTH.
 */
export const TURN_DEPTH = 100;
const PENDING_IN_BAND = (tenant: string, priority: string) =>
  `SELECT count(*)::int FROM (SELECT 1 FROM tasks p WHERE p.tenant_id = ${tenant} AND p.priority = ${priority} AND p.status = 'pending' LIMIT ${TURN_DEPTH}) AS turn`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Background tasks (table tasks), per tenant: written by the task-scheduler (submit, each run's
 * start, progress and end, cancel), read by the gateway's /api/tasks routes. A run's writes carry
 * its run token and change the task only while that run is the task's current one.
 */
export class TaskRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Stores the task with its dependencies, or — when the tenant already has a task under the same
   * idempotency key — returns that one (`created: false`). Dependencies must be the tenant's own
   * tasks: `missing` lists those that are not (another tenant's look like no task at all), and
   * nothing is stored then.
   */
  async insert(task: NewTask): Promise<StoredTask | { missing: string[] }> {
    // Without dependencies the task is one statement (its tenant row included); with them, the
    // check that they are the tenant's and their rows commit with the task.
    if (task.dependsOn.length === 0) return this.insertWith(this.dataSource.manager, task);
    return this.dataSource.transaction((manager) => this.insertWith(manager, task));
  }

  private async insertWith(manager: Pick<DataSource, 'query'>, task: NewTask): Promise<StoredTask | { missing: string[] }> {
    const dependencyIds = task.dependsOn.map((dependency) => dependency.taskId);
    if (dependencyIds.length > 0) {
      const found: Array<{ id: string }> = await manager.query(`SELECT id::text FROM tasks WHERE tenant_id = $1 AND id = ANY($2::uuid[])`, [task.tenantId, dependencyIds]);
      const known = new Set(found.map((row) => row.id));
      const missing = dependencyIds.filter((id) => !known.has(id));
      if (missing.length > 0) return { missing };
    }
    const id = randomUUID();
    // A second submission under the same key waits for the first to commit, then inserts nothing.
    // The count of the tenant's pending tasks in the band is read in the same statement (it sees
    // the table as it was before this row): the new task's turn, without a query of its own.
    const inserted: Array<TaskRow & { pending_ahead: number }> = await manager.query(
      `WITH tenant AS (INSERT INTO tenants (id, name) VALUES ($2, $2) ON CONFLICT (id) DO NOTHING)
       INSERT INTO tasks (id, tenant_id, type, params, priority, status, max_retries, timeout_seconds, run_at, cron, next_run_at, metadata, idempotency_key, webhook_url, webhook_secret)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
       ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
       RETURNING ${COLUMNS}, (${PENDING_IN_BAND('$2', '$5')}) AS pending_ahead`,
      [
        id,
        task.tenantId,
        task.type,
        JSON.stringify(task.params),
        task.priority,
        task.status,
        task.maxRetries,
        task.timeoutSeconds,
        task.runAt,
        task.cron,
        task.nextRunAt,
        JSON.stringify(task.metadata),
        task.idempotencyKey,
        task.webhook?.url ?? null,
        task.webhook?.secret ?? null,
      ],
    );
    if (inserted.length === 0) {
      const existing = task.idempotencyKey === null ? undefined : await this.findByKey(manager, task.tenantId, task.idempotencyKey);
      if (!existing) throw new Error(`task ${id} was neither stored nor found under its idempotency key`);
      return { task: existing, created: false };
    }
    if (task.dependsOn.length > 0) {
      await manager.query(
        `INSERT INTO task_dependencies (task_id, depends_on, tenant_id, required_status, ordinal)
         SELECT $1, d, $2, r, o FROM unnest($3::uuid[], $4::text[], $5::int[]) AS v(d, r, o)
         ON CONFLICT DO NOTHING`,
        [id, task.tenantId, dependencyIds, task.dependsOn.map((dependency) => dependency.requiredStatus), task.dependsOn.map((_, ordinal) => ordinal)],
      );
    }
    return { task: toView({ ...inserted[0], depends_on: task.dependsOn }), created: true, pendingAhead: inserted[0].pending_ahead };
  }

  /** The tenant's task, or undefined (a missing id, a malformed one and another tenant's look the same). */
  find(tenantId: string, id: string): Promise<TaskView | undefined> {
    return this.findIn(this.dataSource.manager, tenantId, id);
  }

  /** The tenant's tasks, newest first, a page at a time. */
  async list(tenantId: string, filter: TaskListFilter): Promise<TaskView[]> {
    const conditions = ['t.tenant_id = $1'];
    const values: unknown[] = [tenantId];
    if (filter.status) conditions.push(`t.status = $${values.push(filter.status)}`);
    if (filter.type) conditions.push(`t.type = $${values.push(filter.type)}`);
    if (filter.after) {
      if (!UUID.test(filter.after)) return [];
      const index = values.push(filter.after);
      conditions.push(`(t.created_at, t.id) < (SELECT created_at, id FROM tasks WHERE id = $${index}::uuid AND tenant_id = $1)`);
    }
    const rows: TaskRow[] = await this.dataSource.query(
      `SELECT ${SELECTED} FROM tasks t WHERE ${conditions.join(' AND ')} ORDER BY t.created_at DESC, t.id DESC LIMIT $${values.push(filter.limit)}`,
      values,
    );
    return rows.map(toView);
  }

  /** How many of the tenant's tasks stand in each status, per type; and the median and p95 run time of those that completed. */
  async stats(tenantId: string): Promise<{ byStatus: Record<string, number>; byType: Record<string, Record<string, number>>; runMs: { p50: number | null; p95: number | null } }> {
    const counts: Array<{ type: string; status: string; count: string }> = await this.dataSource.query(
      `SELECT type, status, count(*) AS count FROM tasks WHERE tenant_id = $1 GROUP BY type, status`,
      [tenantId],
    );
    const [durations]: Array<{ p50: number | null; p95: number | null }> = await this.dataSource.query(
      `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY (usage->>'durationMs')::float) AS p50,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY (usage->>'durationMs')::float) AS p95
         FROM tasks WHERE tenant_id = $1 AND status = 'completed' AND usage IS NOT NULL`,
      [tenantId],
    );
    const byStatus: Record<string, number> = {};
    const byType: Record<string, Record<string, number>> = {};
    for (const row of counts) {
      byStatus[row.status] = (byStatus[row.status] ?? 0) + Number(row.count);
      byType[row.type] = { ...byType[row.type], [row.status]: Number(row.count) };
    }
    return { byStatus, byType, runMs: { p50: durations?.p50 ?? null, p95: durations?.p95 ?? null } };
  }

  /**
   * Starts a run under `runToken`: a pending or scheduled task, or — with `takeOverRun`, for a run
   * whose worker died (its queue job stalled and was handed on) — the running task, if that run is
   * still its latest (a newer run is never taken from its worker). Counts the attempt. Undefined
   * when the task cannot run (ended, waiting, missing, another tenant's).
   */
  async startRun(tenantId: string, id: string, runToken: string, takeOverRun: number | null): Promise<TaskView | undefined> {
    const rows: [TaskRow[], number] = await this.dataSource.query(
      `UPDATE tasks t SET status = 'running', attempts = attempts + 1, run_token = $3, started_at = now(), next_run_at = NULL,
              progress = 0, progress_message = NULL, updated_at = now()
        WHERE t.id = $2 AND t.tenant_id = $1 AND (t.status IN ('pending', 'scheduled') OR (t.status = 'running' AND t.attempts = $4::int))
        RETURNING ${SELECTED}`,
      [tenantId, id, runToken, takeOverRun],
    );
    const row = rows[0][0];
    return row ? toView(row) : undefined;
  }

  /** Records the run's progress; false when the run is no longer the task's (cancelled, taken over). */
  async reportProgress(tenantId: string, id: string, runToken: string, percent: number, message: string | null): Promise<boolean> {
    const result: [unknown[], number] = await this.dataSource.query(
      `UPDATE tasks SET progress = $4, progress_message = $5, updated_at = now() WHERE id = $2 AND tenant_id = $1 AND run_token = $3 AND status = 'running'`,
      [tenantId, id, runToken, percent, message],
    );
    return result[1] === 1;
  }

  /** Ends the run; undefined when it was no longer the task's current run (so nothing changed). */
  async finishRun(tenantId: string, id: string, runToken: string, outcome: RunOutcome): Promise<TaskView | undefined> {
    const final = outcome.status !== 'scheduled';
    const rows: [TaskRow[], number] = await this.dataSource.query(
      `UPDATE tasks t SET status = $4, result = coalesce($5::jsonb, result), error = $6, next_run_at = $7, usage = $8,
              progress = CASE WHEN $4 = 'completed' THEN 100 ELSE progress END,
              finished_at = CASE WHEN $9 THEN now() ELSE finished_at END, run_token = NULL, updated_at = now(), ${DELIVERY_PENDING_ON_END('$9')}
        WHERE t.id = $2 AND t.tenant_id = $1 AND t.run_token = $3 AND t.status = 'running'
        RETURNING ${SELECTED}`,
      [
        tenantId,
        id,
        runToken,
        outcome.status,
        outcome.result === undefined ? null : JSON.stringify(outcome.result),
        outcome.error ?? null,
        outcome.nextRunAt ?? null,
        JSON.stringify(outcome.usage),
        final,
      ],
    );
    const row = rows[0][0];
    return row ? toView(row) : undefined;
  }

  /**
   * Cancels a task that has not ended; resolves with it and the status it had (`running`: its
   * worker must be told), or undefined when there is no such task of the tenant. A task already
   * ended is returned as it is, with `was` its final status.
   */
  async cancel(tenantId: string, id: string, reason: string): Promise<{ task: TaskView; was: TaskStatus } | undefined> {
    if (!UUID.test(id)) return undefined;
    return this.dataSource.transaction(async (manager) => {
      const before: Array<{ status: TaskStatus }> = await manager.query(`SELECT status FROM tasks WHERE id = $2 AND tenant_id = $1 FOR UPDATE`, [tenantId, id]);
      if (!before[0]) return undefined;
      await manager.query(
        `UPDATE tasks SET status = 'cancelled', error = $3, run_token = NULL, next_run_at = NULL, finished_at = now(), updated_at = now(), ${DELIVERY_PENDING_ON_END('true')}
          WHERE id = $2 AND tenant_id = $1 AND status NOT IN ${FINAL}`,
        [tenantId, id, reason],
      );
      const task = await this.findIn(manager, tenantId, id);
      return task ? { task, was: before[0].status } : undefined;
    });
  }

  /**
   * Moves a task from one of `from` to `to` (a waiting task released or failed by its
   * dependencies, a pending one scheduled again); undefined when it was in none of them.
   */
  async transition(
    tenantId: string,
    id: string,
    from: readonly TaskStatus[],
    to: Extract<TaskStatus, 'pending' | 'failed' | 'scheduled'>,
    details: { error?: string; nextRunAt?: Date } = {},
  ): Promise<TaskView | undefined> {
    const rows: [TaskRow[], number] = await this.dataSource.query(
      `UPDATE tasks t SET status = $4, error = coalesce($5, error), next_run_at = $6, updated_at = now(),
              finished_at = CASE WHEN $4 = 'failed' THEN now() ELSE finished_at END, ${DELIVERY_PENDING_ON_END("$4 = 'failed'")}
        WHERE t.id = $2 AND t.tenant_id = $1 AND t.status = ANY($3::text[])
        RETURNING ${SELECTED}`,
      [tenantId, id, from, to, details.error ?? null, details.nextRunAt ?? null],
    );
    const row = rows[0][0];
    return row ? toView(row) : undefined;
  }

  /** The task's dependencies and where each stands (in the order given on submit). */
  async dependenciesOf(tenantId: string, id: string): Promise<DependencyState[]> {
    const rows: Array<{ task_id: string; required_status: DependencyState['requiredStatus']; status: TaskStatus }> = await this.dataSource.query(
      `SELECT d.depends_on::text AS task_id, d.required_status, t.status
         FROM task_dependencies d JOIN tasks t ON t.id = d.depends_on AND t.tenant_id = d.tenant_id
        WHERE d.task_id = $2 AND d.tenant_id = $1
        ORDER BY d.ordinal`,
      [tenantId, id],
    );
    return rows.map((row) => ({ taskId: row.task_id, requiredStatus: row.required_status, status: row.status }));
  }

  /** The tenant's waiting tasks that depend on this one. */
  async waitingDependents(tenantId: string, id: string): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `SELECT t.id::text FROM task_dependencies d JOIN tasks t ON t.id = d.task_id AND t.tenant_id = d.tenant_id
        WHERE d.depends_on = $2 AND d.tenant_id = $1 AND t.status = 'waiting'`,
      [tenantId, id],
    );
    return rows.map((row) => row.id);
  }

  /** How many of the tenant's tasks of this priority are pending (queued, not yet running), up to TURN_DEPTH: the next one's turn behind them. */
  async pendingInBand(tenantId: string, priority: TaskPriority): Promise<number> {
    const [row]: Array<{ count: number }> = await this.dataSource.query(`SELECT (${PENDING_IN_BAND('$1', '$2')}) AS count`, [tenantId, priority]);
    return row?.count ?? 0;
  }

  /**
   * @allTenants the task reconciler puts back lost queue jobs of every tenant's tasks.
   * Tasks unchanged for `staleSeconds` that should have a queue job: pending ones, scheduled ones
   * past their time, and ended ones whose webhook push is pending or retrying. At most `limit`, oldest first.
   */
  async needingQueueJobs(staleSeconds: number, limit: number): Promise<TaskNeedingJob[]> {
    const rows: Array<{ tenant_id: string; id: string; priority: TaskPriority; status: TaskStatus; attempts: number; need: 'run' | 'push' }> = await this.dataSource.query(
      `(SELECT tenant_id, id::text, priority, status, attempts, 'run' AS need, updated_at AS since FROM tasks
         WHERE status = 'pending' AND updated_at < now() - make_interval(secs => $1)
        UNION ALL
        SELECT tenant_id, id::text, priority, status, attempts, 'run', next_run_at FROM tasks
         WHERE status = 'scheduled' AND next_run_at < now() - make_interval(secs => $1)
        UNION ALL
        SELECT tenant_id, id::text, priority, status, attempts, 'push', finished_at FROM tasks
         WHERE webhook_delivery->>'status' IN ('pending', 'retrying') AND finished_at < now() - make_interval(secs => $1))
       ORDER BY since LIMIT $2`,
      [staleSeconds, limit],
    );
    return rows.map((row) => ({ tenantId: row.tenant_id, id: row.id, priority: row.priority, status: row.status, attempts: row.attempts, need: row.need }));
  }

  /** The tenant's ended task with its webhook's address and secret (to sign), or undefined without one. */
  async webhookTarget(tenantId: string, id: string): Promise<{ task: TaskView; url: string; secret: string } | undefined> {
    if (!UUID.test(id)) return undefined;
    const rows: Array<TaskRow & { webhook_secret: string }> = await this.dataSource.query(
      `SELECT ${SELECTED}, t.webhook_secret FROM tasks t WHERE t.id = $2 AND t.tenant_id = $1 AND t.status IN ${FINAL} AND t.webhook_url IS NOT NULL`,
      [tenantId, id],
    );
    const row = rows[0];
    return row && row.webhook_url ? { task: toView(row), url: row.webhook_url, secret: row.webhook_secret } : undefined;
  }

  /** Records where the push of the task's end stands (once delivered, it stays delivered). */
  async recordWebhookDelivery(tenantId: string, id: string, delivery: TaskWebhookDelivery): Promise<void> {
    await this.dataSource.query(
      `UPDATE tasks SET webhook_delivery = $3::jsonb WHERE id = $2 AND tenant_id = $1 AND webhook_url IS NOT NULL
          AND coalesce(webhook_delivery->>'status', '') <> 'delivered'`,
      [tenantId, id, JSON.stringify(delivery)],
    );
  }

  private async findIn(manager: Pick<DataSource, 'query'>, tenantId: string, id: string): Promise<TaskView | undefined> {
    if (!UUID.test(id)) return undefined;
    const rows: TaskRow[] = await manager.query(`SELECT ${SELECTED} FROM tasks t WHERE t.id = $2 AND t.tenant_id = $1`, [tenantId, id]);
    return rows[0] ? toView(rows[0]) : undefined;
  }

  private async findByKey(manager: Pick<DataSource, 'query'>, tenantId: string, key: string): Promise<TaskView | undefined> {
    const rows: Array<{ id: string }> = await manager.query(`SELECT id::text FROM tasks WHERE tenant_id = $1 AND idempotency_key = $2`, [tenantId, key]);
    return rows[0] ? this.findIn(manager, tenantId, rows[0].id) : undefined;
  }
}
