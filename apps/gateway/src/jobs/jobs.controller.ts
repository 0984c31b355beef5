import { Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Tenant } from '../http/tenant.decorator';
import { JobsService } from './jobs.service';

const POLL_MS = 250;
const HEARTBEAT_MS = 15_000;

@Controller('api/jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  /** Status, stage and percent of an ingestion job (the `jobId` an upload returned). */
  @Get(':id')
  get(@Tenant() tenantId: string, @Param('id') id: string) {
    return this.jobs.get(tenantId, id);
  }

  /**
   * Server-sent events: a `progress` event whenever status, stage or percent change, then one
   * `done` event with the final state. Comment lines keep idle proxies from closing the stream.
   */
  @Get(':id/events')
  async events(@Tenant() tenantId: string, @Param('id') id: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    let view = await this.jobs.get(tenantId, id);
    reply.hijack();
    const out = reply.raw;
    out.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const send = (event: string, data: unknown) => out.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    let closed = false;
    request.raw.on('close', () => (closed = true));
    let last = '';
    let lastWrite = Date.now();
    try {
      while (!closed) {
        const fingerprint = `${view.status}|${view.stage}|${view.progress}`;
        if (fingerprint !== last) {
          send('progress', view);
          last = fingerprint;
          lastWrite = Date.now();
        }
        if (JobsService.isTerminal(view)) {
          send('done', view);
          break;
        }
        if (Date.now() - lastWrite > HEARTBEAT_MS) {
          out.write(': keep-alive\n\n');
          lastWrite = Date.now();
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        view = await this.jobs.get(tenantId, id);
      }
    } catch (error) {
      send('error', { message: (error as Error).message });
    } finally {
      out.end();
    }
  }

  @Post(':id/cancel')
  @HttpCode(202)
  cancel(@Tenant() tenantId: string, @Param('id') id: string) {
    return this.jobs.cancel(tenantId, id);
  }
}
