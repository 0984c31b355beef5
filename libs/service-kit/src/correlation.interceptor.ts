import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { runWithCorrelationId } from '@quarry/observability';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Observable } from 'rxjs';
import { CORRELATION_HEADER, correlationIdFor } from './request-context';

/**
 * Answers every Nest route with its correlation id (`x-correlation-id`), the one the request's
 * context holds (runRequestsInContext), so logs and every job the request enqueues carry the id the
 * client sees. A request that somehow arrives without a context gets one here.
 */
@Injectable()
export class CorrelationInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const known = request.requestContext?.correlationId;
    const correlationId = known ?? correlationIdFor(request);
    void reply.header(CORRELATION_HEADER, correlationId);
    if (known) return next.handle();
    return new Observable((subscriber) => runWithCorrelationId(correlationId, () => next.handle().subscribe(subscriber)));
  }
}
