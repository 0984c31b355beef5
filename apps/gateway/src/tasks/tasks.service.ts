import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode, JobName, type SubmitTaskReply, type TaskView } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import { type DataSource, TaskRepository } from '@quarry/persistence';
import { DATA_SOURCE, JOB_CLIENT } from '@quarry/service-kit';
import type { JobClient } from '@quarry/transport';
import type { ListTasksQuery, SubmitTaskBody, TaskPage, TaskStats } from './tasks.schemas';

/**
 * Task use cases of the public API, within the caller's tenant: submit and cancel go to the
 * task-scheduler over its queue (it owns the decisions); reads come from Postgres.
 */
@Injectable()
export class TasksService {
  private readonly tasks: TaskRepository;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(JOB_CLIENT) private readonly jobs: JobClient,
  ) {
    this.tasks = new TaskRepository(dataSource);
  }

  submit(tenantId: string, body: SubmitTaskBody): Promise<SubmitTaskReply> {
    return this.jobs.request(JobName.SubmitTask, { tenantId, ...body });
  }

  cancel(tenantId: string, taskId: string): Promise<TaskView> {
    return this.jobs.request(JobName.CancelTask, { tenantId, taskId });
  }

  /** The tenant's task; NOT_FOUND for one that is missing or another tenant's (the two look the same). */
  async get(tenantId: string, taskId: string): Promise<TaskView> {
    const task = await this.tasks.find(tenantId, taskId);
    if (!task) throw new DomainError(ErrorCode.NotFound, `task ${taskId} not found`);
    return task;
  }

  async list(tenantId: string, query: ListTasksQuery): Promise<TaskPage> {
    // One more than asked: whether a next page exists, without counting.
    const items = await this.tasks.list(tenantId, { ...query, limit: query.limit + 1 });
    const page = items.slice(0, query.limit);
    return { items: page, nextAfter: items.length > query.limit ? (page.at(-1)?.id ?? null) : null };
  }

  stats(tenantId: string): Promise<TaskStats> {
    return this.tasks.stats(tenantId);
  }
}
