import { Body, Controller, Get, Headers, Inject, Param, Post, Query, Res } from '@nestjs/common';
import { isInstallationWideTask } from '@quarry/contracts';
import { SERVICE_CONFIG } from '@quarry/service-kit';
import type { FastifyReply } from 'fastify';
import { requireOperator } from '../auth/operators';
import { Auth, type RequestAuth } from '../auth/request-auth';
import { RequiresRole } from '../auth/requires-role.decorator';
import type { GatewayConfig } from '../config';
import { parseBody } from '../http/parse-body';
import { Tenant } from '../http/tenant.decorator';
import { StreamQuota } from '../jobs/stream-quota';
import { limitSubject } from '../limits/limit-subject';
import { streamTask } from './task-event-stream';
import { ListTasksQuery, SubmitTaskBody, TaskId } from './tasks.schemas';
import { TasksService } from './tasks.service';

/** Background tasks of the caller's tenant: submitted and cancelled with a write key, followed with a read key. */
@Controller('api/tasks')
export class TasksController {
  // Counted apart from progress streams and streamed answers: each kind has its own SSE_MAX_STREAMS_PER_KEY.
  private readonly quota: StreamQuota;

  constructor(
    private readonly tasks: TasksService,
    @Inject(SERVICE_CONFIG) private readonly config: Pick<GatewayConfig, 'SSE_HEARTBEAT_MS' | 'SSE_MAX_STREAMS_PER_KEY' | 'OPERATOR_TENANT'>,
  ) {
    this.quota = new StreamQuota(config);
  }

  /**
   * 201 with a new task; 200 with the existing one when its idempotency key (body or `Idempotency-Key` header) was used before.
   * A type whose work reaches every tenant (corpus.reembed) is for operators only.
   */
  @Post()
  @RequiresRole('write')
  async submit(@Tenant() tenantId: string, @Auth() auth: RequestAuth, @Body() body: unknown, @Headers('idempotency-key') headerKey: string | undefined, @Res() reply: FastifyReply): Promise<void> {
    const withKey = headerKey !== undefined && body !== null && typeof body === 'object' && !('idempotencyKey' in body) ? { ...body, idempotencyKey: headerKey } : body;
    const submission = parseBody(SubmitTaskBody, withKey);
    if (isInstallationWideTask(submission.type)) requireOperator(auth, this.config.OPERATOR_TENANT, `a ${submission.type} task`);
    const { task, created } = await this.tasks.submit(tenantId, submission);
    await reply.status(created ? 201 : 200).send(task);
  }

  @Get()
  @RequiresRole('read')
  list(@Tenant() tenantId: string, @Query() query: unknown) {
    return this.tasks.list(tenantId, parseBody(ListTasksQuery, query));
  }

  @Get('stats')
  @RequiresRole('read')
  stats(@Tenant() tenantId: string) {
    return this.tasks.stats(tenantId);
  }

  @Get(':id')
  @RequiresRole('read')
  get(@Tenant() tenantId: string, @Param('id') id: string) {
    return this.tasks.get(tenantId, parseBody(TaskId, id));
  }

  @Post(':id/cancel')
  @RequiresRole('write')
  cancel(@Tenant() tenantId: string, @Param('id') id: string) {
    return this.tasks.cancel(tenantId, parseBody(TaskId, id));
  }

  @Get(':id/events')
  @RequiresRole('read')
  async events(@Auth() auth: RequestAuth, @Param('id') id: string, @Res() reply: FastifyReply): Promise<void> {
    const taskId = parseBody(TaskId, id);
    const release = this.quota.acquire(limitSubject(auth));
    try {
      const first = await this.tasks.get(auth.tenantId, taskId);
      const correlationId = reply.getHeader('x-correlation-id');
      reply.hijack();
      const sse = streamTask(reply.raw, first, () => this.tasks.get(auth.tenantId, taskId), {
        heartbeatMs: this.config.SSE_HEARTBEAT_MS,
        headers: typeof correlationId === 'string' ? { 'x-correlation-id': correlationId } : {},
      });
      sse.whenEnded(release);
    } catch (error) {
      release();
      throw error;
    }
  }
}
