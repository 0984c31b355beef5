import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { DeepHealth } from './deep-health';
import { DEEP_HEALTH } from './kit-deep-health';

/**
 * GET /health/deep: every dependency the service needs to do its work (queues' consumers, index,
 * model endpoints, Qdrant, Redis's eviction policy …), 200 when all pass, else 503. For operators
 * and diagnosis, not for probes: a consumer that is down elsewhere fails it here too.
 */
@Controller()
export class DeepHealthController {
  constructor(@Inject(DEEP_HEALTH) private readonly health: DeepHealth) {}

  @Get('health/deep')
  async deep(@Res() reply: FastifyReply): Promise<void> {
    const report = await this.health.report();
    await reply.status(report.healthy ? 200 : 503).send(report);
  }
}
