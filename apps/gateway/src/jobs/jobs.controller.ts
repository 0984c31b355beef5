import { Controller, Get, HttpCode, Inject, Param, Post, Res } from '@nestjs/common';
import { ErrorCode } from '@quarry/contracts';
import { SERVICE_CONFIG } from '@quarry/service-kit';
import type { FastifyReply } from 'fastify';
import { Auth, type RequestAuth } from '../auth/request-auth';
import { RequiresRole } from '../auth/requires-role.decorator';
import type { GatewayConfig } from '../config';
import { Tenant } from '../http/tenant.decorator';
import { limitSubject } from '../limits/limit-subject';
import { JobProgressHub } from './job-progress-hub';
import { type JobView, JobsService } from './jobs.service';
import { ProgressStream } from './progress-stream';
import { StreamQuota } from './stream-quota';

@Controller('api/jobs')
export class JobsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly progress: JobProgressHub,
    private readonly quota: StreamQuota,
    @Inject(SERVICE_CONFIG) private readonly config: Pick<GatewayConfig, 'SSE_HEARTBEAT_MS'>,
  ) {}

  /** Status, stage and percent of an ingestion job (the `jobId` an upload returned). */
  @Get(':id')
  @RequiresRole('read')
  get(@Tenant() tenantId: string, @Param('id') id: string) {
    return this.jobs.get(tenantId, id);
  }

  /**
   * Server-sent events: a `progress` event whenever status, stage or percent change, then one
   * `done` event with the final state (an `error` event if the document is deleted meanwhile).
   * Changes come from the gateway's shared poller, not from a query loop per stream.
   */
  @Get(':id/events')
  @RequiresRole('read')
  async events(@Auth() auth: RequestAuth, @Param('id') id: string, @Res() reply: FastifyReply): Promise<void> {
    const { tenantId } = auth;
    // Per key (per tenant behind a trusted proxy): SSE_MAX_STREAMS_PER_KEY.
    const release = this.quota.acquire(limitSubject(auth));
    let view: JobView;
    try {
      view = await this.jobs.get(tenantId, id);
    } catch (error) {
      release();
      throw error;
    }
    reply.hijack();
    const correlationId = reply.getHeader('x-correlation-id');
    const stream = new ProgressStream(reply.raw, {
      heartbeatMs: this.config.SSE_HEARTBEAT_MS,
      correlationId: typeof correlationId === 'string' ? correlationId : undefined,
    });
    stream.whenEnded(release);
    stream.update(view);
    if (stream.ended) return;
    const unwatch = this.progress.watch(
      { tenantId, jobId: id, documentId: view.documentId, seen: { status: view.status, stage: view.stage, progress: view.progress } },
      {
        changed: (next) => stream.update(next),
        gone: () => stream.fail({ code: ErrorCode.NotFound, message: `job ${id} not found` }),
        shutdown: () => stream.end(),
      },
    );
    stream.whenEnded(unwatch);
  }

  @Post(':id/cancel')
  @RequiresRole('write')
  @HttpCode(202)
  cancel(@Tenant() tenantId: string, @Param('id') id: string) {
    return this.jobs.cancel(tenantId, id);
  }
}
