import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { ServiceMetrics } from '@quarry/observability';
import type { FastifyReply } from 'fastify';
import type { Readiness } from './readiness';
import { METRICS, READINESS } from './tokens';

export const BULLMQ_SERVER = Symbol('BULLMQ_SERVER');

/** Liveness, readiness and Prometheus metrics: the same three endpoints on every service. */
@Controller()
export class OpsController {
  constructor(
    @Inject(READINESS) private readonly readiness: Readiness,
    @Inject(METRICS) private readonly metrics: ServiceMetrics,
  ) {}

  @Get('health/live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('health/ready')
  async ready(@Res() reply: FastifyReply): Promise<void> {
    const report = await this.readiness.report();
    await reply.status(report.ready ? 200 : 503).send(report);
  }

  /** Queue depths and readiness are sampled for each scrape (ServiceMetrics.beforeRender), bounded in time. */
  @Get('metrics')
  async scrape(@Res() reply: FastifyReply): Promise<void> {
    const { contentType, body } = await this.metrics.render();
    await reply.header('content-type', contentType).send(body);
  }
}
