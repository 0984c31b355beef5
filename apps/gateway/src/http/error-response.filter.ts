import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import { ErrorCode } from '@quarry/contracts';
import { isDomainError } from '@quarry/domain';
import { type Logger, currentCorrelationId, newCorrelationId } from '@quarry/observability';
import type { FastifyReply } from 'fastify';
import { HTTP_STATUS_OF } from './error-status';

export interface ErrorBody {
  error: { code: string; message: string; correlationId?: string };
}

/**
 * Every error leaves the API in one JSON shape. Domain errors keep their code and message; HTTP
 * errors from the framework keep their status; anything unknown is logged with its stack and
 * becomes a 500 that reveals nothing internal.
 */
@Catch()
export class ErrorResponseFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { status, code, message } = this.describe(exception);
    // The interceptor has already stamped the id on the reply (filters run outside its context).
    // Errors raised before it ran (unknown route, unparsable body) get a fresh id, so that every
    // error body carries one.
    const stamped = reply.getHeader('x-correlation-id');
    let correlationId = typeof stamped === 'string' ? stamped : currentCorrelationId();
    if (!correlationId) {
      correlationId = newCorrelationId();
      void reply.header('x-correlation-id', correlationId);
    }
    const body: ErrorBody = { error: { code, message, correlationId } };
    void reply.status(status).send(body);
  }

  private describe(exception: unknown): { status: number; code: string; message: string } {
    if (isDomainError(exception)) {
      return { status: HTTP_STATUS_OF[exception.code], code: exception.code, message: exception.message };
    }
    // Anything can be thrown, null and undefined included.
    const fastifyStatus = (exception as { statusCode?: unknown } | null | undefined)?.statusCode;
    if (fastifyStatus === 413) {
      return { status: 413, code: ErrorCode.PayloadTooLarge, message: 'the upload is larger than the configured limit (MAX_UPLOAD_BYTES)' };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      return { status, code: status === 404 ? ErrorCode.NotFound : status < 500 ? ErrorCode.InvalidPayload : ErrorCode.Internal, message: exception.message };
    }
    if (typeof fastifyStatus === 'number' && fastifyStatus >= 400 && fastifyStatus < 500) {
      return { status: fastifyStatus, code: ErrorCode.InvalidPayload, message: (exception as Error).message };
    }
    this.logger.error('unhandled error', { error: (exception as Error)?.message, stack: (exception as Error)?.stack });
    return { status: 500, code: ErrorCode.Internal, message: 'internal error; the correlation id identifies it in the logs' };
  }
}
