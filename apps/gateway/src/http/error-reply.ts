import type { FastifyReply } from 'fastify';
import { isOpenAiPath, openAiErrorBody } from '../openai/openai-errors';
import type { ErrorBody } from './error.schemas';
import type { PublicError } from './public-error';

export const CORRELATION_HEADER = 'x-correlation-id';

/** The documented error shape: `{"error":{"code","message","correlationId"}}` (its schema is in error.schemas.ts). */
export type { ErrorBody };

export function errorBody(error: PublicError, correlationId: string): ErrorBody {
  return { error: { code: error.code, message: error.message, correlationId } };
}

interface Incoming {
  complete?: boolean;
  headers?: Record<string, string | string[] | undefined>;
}

/** The request announced a body and it has not all arrived (a message without a body may not be `complete` yet either). */
function bodyUnread(incoming: Incoming | undefined): boolean {
  if (!incoming || incoming.complete) return false;
  const headers = incoming.headers ?? {};
  return headers['transfer-encoding'] !== undefined || Number(headers['content-length'] ?? 0) > 0;
}

/**
 * Sends an error in the documented shape. When the request body has not been read to its end (a
 * refused upload), the connection is closed after the reply: Node would otherwise read and discard
 * the rest of the body, however large, to keep the connection alive.
 */
export function sendError(reply: FastifyReply, error: PublicError, correlationId: string): void {
  void reply.header(CORRELATION_HEADER, correlationId);
  if (error.retryAfterSeconds !== undefined) void reply.header('retry-after', String(error.retryAfterSeconds));
  if (bodyUnread((reply.request as { raw?: Incoming } | undefined)?.raw)) void reply.header('connection', 'close');
  // OpenAI's clients read errors of the OpenAI-compatible API in OpenAI's shape.
  const url = (reply.request as { url?: string } | undefined)?.url;
  void reply.status(error.status).send(isOpenAiPath(url) ? openAiErrorBody(error) : errorBody(error, correlationId));
}
