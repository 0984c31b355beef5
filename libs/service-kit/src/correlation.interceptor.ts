import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { newCorrelationId, runWithCorrelationId } from '@quarry/observability';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Observable } from 'rxjs';

const HEADER = 'x-correlation-id';

/**
 * Gives every HTTP request a correlation id (the caller's `x-correlation-id` if it sent a sane one)
 * and runs the handler inside it, so logs and every job the request enqueues carry the same id.
 */
@Injectable()
export class CorrelationInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const offered = request.headers[HEADER];
    const correlationId = typeof offered === 'string' && /^[\w.:-]{1,128}$/.test(offered) ? offered : newCorrelationId();
    void reply.header(HEADER, correlationId);
    return new Observable((subscriber) => runWithCorrelationId(correlationId, () => next.handle().subscribe(subscriber)));
  }
}
