import { randomUUID } from 'node:crypto';
import { TASK_RETRY_BASE_DELAY_MS, TASK_TYPES, type TaskType, type TaskView } from '@quarry/contracts';
import { isDomainError, raceAbort } from '@quarry/domain';
import type { Logger } from '@quarry/observability';
import type { RunOutcome, TaskRepository } from '@quarry/persistence';
import { nextOccurrence } from './cron-schedule';
import type { TaskHandler } from './task-handler';
import type { TaskManager } from './task-manager';
import type { TaskMetrics } from './task-metrics';
import type { TaskQueue } from './task-queue';

/** Progress is written at most this often per run (a handler may report every item). */
const PROGRESS_EVERY_MS = 250;

class TaskTimeout extends Error {
  constructor(readonly seconds: number) {
    super(`timed out after ${seconds} s`);
  }
}
class TaskCancelled extends Error {}
class WorkerStopping extends Error {}

/** One run of a task from the queue: which task, and — when the job was handed on after its worker died — the run to take over. */
export interface RunRequest {
  tenantId: string;
  taskId: string;
  takeOverRun: number | null;
}

/**
 * Runs tasks: takes the run in Postgres (a task that cannot run — ended, waiting, not due,
 * another tenant's — is left alone), gives the handler an abort signal that fires on cancel (from
 * any replica), on the task's timeout and on shutdown, writes progress, and records the outcome:
 * completed, retried with exponential backoff, failed, or — a cron task — scheduled for its next
 * occurrence. A handler that ignores its signal cannot hold the task: the run ends when the signal
 * fires, and whatever the handler does afterwards is no longer written anywhere.
 */
export class TaskRunner {
  private readonly running = new Map<string, AbortController>();

  constructor(
    private readonly tasks: TaskRepository,
    private readonly handlers: ReadonlyMap<TaskType, TaskHandler>,
    private readonly queue: TaskQueue,
    private readonly manager: TaskManager,
    private readonly metrics: TaskMetrics,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Runs in this process now. */
  get activeRuns(): number {
    return this.running.size;
  }

  /** A cancel announced by any replica: aborts the run if it is here. */
  cancelled(taskId: string): void {
    this.running.get(taskId)?.abort(new TaskCancelled('cancelled'));
  }

  /** Shutdown: every run is aborted and handed back to the queue (it runs again, elsewhere or after the restart). */
  stopAll(): void {
    for (const controller of this.running.values()) controller.abort(new WorkerStopping('the worker is shutting down'));
  }

  async run(request: RunRequest): Promise<void> {
    const token = randomUUID();
    const task = await this.tasks.startRun(request.tenantId, request.taskId, token, request.takeOverRun);
    if (!task) {
      this.logger.info('task run skipped: the task cannot run now (ended, cancelled, waiting, not due, or unknown to this tenant)', { taskId: request.taskId });
      return;
    }
    const handler = this.handlers.get(task.type);
    const dueAt = task.nextRunAt ?? task.runAt ?? task.createdAt;
    this.metrics.startDelay.observe({ priority: task.priority }, Math.max(0, this.now().getTime() - new Date(dueAt).getTime()) / 1000);

    const controller = new AbortController();
    this.running.set(task.id, controller);
    this.metrics.running.inc({ task_type: task.type });
    const timeout = setTimeout(() => controller.abort(new TaskTimeout(task.timeoutSeconds)), task.timeoutSeconds * 1000);
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    let lastProgressAt = 0;
    const progress = (percent: number, message?: string) => {
      const at = performance.now();
      if (at - lastProgressAt < PROGRESS_EVERY_MS && percent < 100) return;
      lastProgressAt = at;
      void this.tasks.reportProgress(request.tenantId, task.id, token, Math.max(0, Math.min(100, percent)), message ?? null).then(
        // The run is no longer the task's (cancelled where the announcement did not reach us, taken over): stop.
        (current) => current || controller.abort(new TaskCancelled('the task was cancelled or taken over')),
        (error: unknown) => this.logger.warn('could not record task progress', { taskId: task.id, error: (error as Error).message }),
      );
    };

    let outcome: { ok: true; result: unknown } | { ok: false; error: unknown };
    try {
      if (!handler) throw new Error(`no handler for task type ${task.type} in this task-scheduler`);
      const params = TASK_TYPES[task.type].params.parse(task.params) as never;
      const work = handler.run(params, { tenantId: request.tenantId, taskId: task.id, attempt: task.attempts, signal: controller.signal, progress });
      outcome = { ok: true, result: await raceAbort(work, controller.signal) };
    } catch (error) {
      outcome = { ok: false, error: controller.signal.aborted ? controller.signal.reason : error };
    } finally {
      clearTimeout(timeout);
      this.running.delete(task.id);
      this.metrics.running.dec({ task_type: task.type });
    }
    const durationMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const usage = { durationMs: Number(durationMs.toFixed(1)), cpuMs: Number(((cpu.user + cpu.system) / 1000).toFixed(1)) };
    this.metrics.runDuration.observe({ task_type: task.type }, durationMs / 1000);
    await this.record(request.tenantId, task, token, outcome, usage);
  }

  private async record(tenantId: string, task: TaskView, token: string, outcome: { ok: true; result: unknown } | { ok: false; error: unknown }, usage: RunOutcome['usage']) {
    if (!outcome.ok && outcome.error instanceof TaskCancelled) {
      // The cancel already ended the task (its row says so); nothing of this run is written.
      this.metrics.finished.inc({ task_type: task.type, outcome: 'cancelled' });
      return;
    }
    if (!outcome.ok && outcome.error instanceof WorkerStopping) {
      const handedBack = await this.tasks.finishRun(tenantId, task.id, token, { status: 'scheduled', error: 'interrupted: the worker shut down; the run starts again', nextRunAt: this.now(), usage });
      if (handedBack) await this.queue.enqueue(tenantId, handedBack);
      this.logger.info('task run handed back at shutdown', { taskId: task.id });
      return;
    }
    const decided = this.decide(task, outcome);
    const saved = await this.tasks.finishRun(tenantId, task.id, token, { ...decided.outcome, usage });
    if (!saved) {
      this.logger.info('task run ended after its task was cancelled or taken over; its outcome is not kept', { taskId: task.id });
      return;
    }
    this.metrics.finished.inc({ task_type: task.type, outcome: decided.metric });
    this.logger.info('task run ended', { taskId: task.id, type: task.type, outcome: decided.metric, attempt: task.attempts, durationMs: usage.durationMs, ...(decided.outcome.error ? { error: decided.outcome.error } : {}) });
    if (saved.status === 'scheduled' && saved.nextRunAt) await this.queue.enqueue(tenantId, saved, new Date(saved.nextRunAt).getTime() - this.now().getTime());
    if (saved.status === 'completed' || saved.status === 'failed') await this.manager.ended(tenantId, saved);
  }

  /** What the run's end means for the task: its next status and the metric's outcome. */
  private decide(task: TaskView, outcome: { ok: true; result: unknown } | { ok: false; error: unknown }): { outcome: Omit<RunOutcome, 'usage'>; metric: 'completed' | 'failed' | 'timed_out' | 'retried' } {
    const error = outcome.ok ? null : outcome.error instanceof TaskTimeout ? outcome.error.message : readableError(outcome.error);
    const metric = outcome.ok ? 'completed' : outcome.error instanceof TaskTimeout ? 'timed_out' : 'failed';
    if (task.cron) {
      // A cron task lives on until cancelled: each occurrence's result or error is kept, the next one scheduled.
      const next = nextOccurrence(task.cron, this.now());
      if ('at' in next) return { outcome: { status: 'scheduled', nextRunAt: next.at, error, ...(outcome.ok ? { result: outcome.result ?? null } : {}) }, metric };
      return { outcome: { status: 'failed', error: `cron: ${next.problem}` }, metric: 'failed' };
    }
    if (outcome.ok) return { outcome: { status: 'completed', result: outcome.result ?? null, error: null }, metric };
    // A timeout is final: the work was too long, and running it again would be too. So is a
    // permanent domain error (bad input, a document not found): the next run would fail the same way.
    const permanent = outcome.error instanceof TaskTimeout || (isDomainError(outcome.error) && outcome.error.permanent);
    if (!permanent && task.attempts <= task.maxRetries) {
      const delayMs = TASK_RETRY_BASE_DELAY_MS * 2 ** (task.attempts - 1);
      return { outcome: { status: 'scheduled', error, nextRunAt: new Date(this.now().getTime() + delayMs) }, metric: 'retried' };
    }
    return { outcome: { status: 'failed', error }, metric };
  }
}

function readableError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 2000 ? `${message.slice(0, 2000)}…` : message;
}
