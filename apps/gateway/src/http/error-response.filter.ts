import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { DependencyEndpoints } from '@quarry/domain';
import { type Logger, currentCorrelationId, newCorrelationId } from '@quarry/observability';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CORRELATION_HEADER, sendError } from './error-reply';
import { publicErrorLogged } from './public-error';

export type { ErrorBody } from './error-reply';

/**
 * Every error leaves the API in one JSON shape (see publicErrorOf for what each becomes). What
 * the client is not told (driver text, an internal message) is logged with the correlation id.
 */
@Catch()
export class ErrorResponseFilter implements ExceptionFilter {
  constructor(
    private readonly logger: Logger,
    private readonly endpoints: DependencyEndpoints = {},
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest | undefined>();
    // The interceptor has already stamped the id on the reply (filters run outside its context).
    // Errors raised before it ran (unknown route, unparsable body) get a fresh id, so that every
    // error body carries one.
    const stamped = reply.getHeader(CORRELATION_HEADER);
    const correlationId = (typeof stamped === 'string' ? stamped : currentCorrelationId()) ?? newCorrelationId();
    const error = publicErrorLogged(exception, this.logger, { correlationId }, { endpoints: this.endpoints, bodyLimit: request?.routeOptions?.bodyLimit });
    sendError(reply, error, correlationId);
  }
}
