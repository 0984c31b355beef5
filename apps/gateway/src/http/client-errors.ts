import { STATUS_CODES, maxHeaderSize } from 'node:http';
import type { Socket } from 'node:net';
import { ErrorCode } from '@quarry/contracts';
import { newCorrelationId } from '@quarry/observability';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { CORRELATION_HEADER, errorBody, sendError } from './error-reply';
import type { PublicError } from './public-error';

const invalid = (status: number, message: string): PublicError => ({ status, code: ErrorCode.InvalidPayload, message });

/** What Node's HTTP parser reports (llhttp codes), in the API's words. */
function describeParserError(code: string | undefined): PublicError {
  switch (code ?? '') {
    case 'HPE_HEADER_OVERFLOW':
      return invalid(431, `the request line and headers are larger than ${maxHeaderSize} bytes`);
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return invalid(408, 'the request was not received in time');
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return invalid(400, 'the Content-Length header is invalid, repeated with different values, or sent with Transfer-Encoding');
    case 'HPE_INVALID_TRANSFER_ENCODING':
    case 'HPE_INVALID_CHUNK_SIZE':
      return invalid(400, 'the chunked request body is malformed');
    case 'HPE_INVALID_METHOD':
      return invalid(400, 'the request method is not a known HTTP method');
    case 'HPE_INVALID_URL':
      return invalid(400, 'the request URL is malformed');
    case 'HPE_INVALID_VERSION':
      return invalid(400, 'the request is not HTTP/1.0 or HTTP/1.1');
    default:
      return invalid(400, 'the request is not valid HTTP');
  }
}

// Time the client gets to read the answer before the socket is torn down for good.
const LINGER_MS = 1000;

/**
 * Fastify's `clientErrorHandler`: errors Node's HTTP parser raises before there is a request to
 * route (headers too large, a malformed Content-Length, garbage instead of HTTP). The answer is
 * written on the socket directly, in the documented shape with a fresh correlation id, and the
 * connection is closed (the parser cannot go on after an error).
 */
export function handleClientError(error: Error & { code?: string }, socket: Socket): void {
  // A reset connection is already gone; there is nobody to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const described = describeParserError(error.code);
  const correlationId = newCorrelationId();
  const body = JSON.stringify(errorBody(described, correlationId));
  socket.end(
    `HTTP/1.1 ${described.status} ${STATUS_CODES[described.status] ?? 'Error'}\r\n` +
      'content-type: application/json; charset=utf-8\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      `${CORRELATION_HEADER}: ${correlationId}\r\n` +
      'connection: close\r\n\r\n' +
      body,
  );
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

/** Fastify's own answers outside the error handler (a URL it cannot decode, an overlong path parameter). */
function describeFrameworkError(error: FastifyError): PublicError {
  switch (error.code) {
    case 'FST_ERR_BAD_URL':
      return invalid(400, 'the request URL is malformed (invalid percent-encoding)');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return invalid(414, 'a path segment of the URL is too long');
    default:
      return typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500
        ? invalid(error.statusCode, error.message)
        : { status: 500, code: ErrorCode.Internal, message: 'internal error' };
  }
}

/** Fastify's `frameworkErrors` option: the same shape for the errors Fastify answers itself. */
export function handleFrameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  sendError(reply, describeFrameworkError(error), newCorrelationId());
}
