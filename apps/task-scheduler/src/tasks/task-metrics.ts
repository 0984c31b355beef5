import { TASK_TYPES, TaskPriority, type TaskType } from '@quarry/contracts';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

const TYPES = Object.keys(TASK_TYPES) as TaskType[];
const OUTCOMES = ['completed', 'failed', 'cancelled', 'timed_out', 'retried'] as const;
export type TaskOutcome = (typeof OUTCOMES)[number];

/**
 * The task manager's metrics (quarry_tasks_*), on the service's registry. Every known series
 * exists from the start at zero, so a rate() over a fresh process is 0, not absent.
 */
export class TaskMetrics {
  readonly submitted: Counter<'task_type' | 'priority'>;
  readonly finished: Counter<'task_type' | 'outcome'>;
  readonly runDuration: Histogram<'task_type'>;
  readonly running: Gauge<'task_type'>;
  /** Submit (or the run's due time) to the run's start. */
  readonly startDelay: Histogram<'priority'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.submitted = new Counter({ name: 'quarry_tasks_submitted_total', help: 'Tasks submitted, by type and priority.', labelNames: ['task_type', 'priority'] as const, registers });
    this.finished = new Counter({
      name: 'quarry_task_runs_finished_total',
      help: 'Task runs that ended, by type and outcome (completed, failed, cancelled, timed_out, retried: failed with a retry left).',
      labelNames: ['task_type', 'outcome'] as const,
      registers,
    });
    this.runDuration = new Histogram({
      name: 'quarry_task_run_duration_seconds',
      help: 'How long a task run took, by type.',
      labelNames: ['task_type'] as const,
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800, 3600],
      registers,
    });
    this.running = new Gauge({ name: 'quarry_tasks_running', help: 'Task runs in progress in this process, by type.', labelNames: ['task_type'] as const, registers });
    this.startDelay = new Histogram({
      name: 'quarry_task_start_delay_seconds',
      help: 'From the moment a run was due (submitted, released, retry or occurrence time) to its start, by priority.',
      labelNames: ['priority'] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
      registers,
    });
    for (const type of TYPES) {
      for (const priority of TaskPriority.options) this.submitted.inc({ task_type: type, priority }, 0);
      for (const outcome of OUTCOMES) this.finished.inc({ task_type: type, outcome }, 0);
      this.running.set({ task_type: type }, 0);
    }
  }
}
