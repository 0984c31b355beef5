import { ErrorCode } from '@quarry/contracts';
import { HTTP_STATUS_OF, RETRY_AFTER_SECONDS } from '../http/error-status';
import { PUBLIC_ERROR_CODES } from '../http/error.schemas';
import { INTERNAL_MESSAGE } from '../http/public-error';
import type { ErrorStatus } from './route-doc';

interface ErrorExample {
  code: ErrorCode;
  message: string;
}

export interface ErrorResponseDoc {
  /** The name under components.responses. */
  name: string;
  description: string;
  examples: ErrorExample[];
  /** Headers beyond `x-correlation-id` (which every error has). */
  headers?: Record<string, Record<string, unknown>>;
}

const retryAfter = (when: string) => ({
  'retry-after': { description: `Seconds to wait before retrying ${when}.`, schema: { type: 'integer', minimum: 1 } },
});

/** Sent with every rate-limited answer (draft-ietf-httpapi-ratelimit-headers), for the per-minute budget. */
export const RATE_LIMIT_HEADERS: Record<string, Record<string, unknown>> = {
  'ratelimit-limit': { description: "The key's requests per minute (RATE_LIMIT_PER_MINUTE).", schema: { type: 'integer', minimum: 1 } },
  'ratelimit-remaining': { description: 'Requests left in the current minute.', schema: { type: 'integer', minimum: 0 } },
  'ratelimit-reset': { description: 'Seconds until the current minute ends.', schema: { type: 'integer', minimum: 0 } },
};

/**
 * The documented error responses, one per status. Which codes a status carries follows from
 * HTTP_STATUS_OF (error-status.ts, the one place codes become statuses); a test checks that every
 * example's code has the status it is listed under, and that every public code has a response.
 */
export const ERROR_RESPONSES: Record<ErrorStatus, ErrorResponseDoc> = {
  400: {
    name: 'BadRequest',
    description: 'The request is malformed or a field is invalid; the message names the field.',
    examples: [
      { code: ErrorCode.InvalidPayload, message: 'question: must not contain NUL characters (U+0000)' },
      { code: ErrorCode.InvalidPayload, message: 'expected a multipart/form-data body with a "file" part' },
    ],
  },
  401: {
    name: 'Unauthenticated',
    description:
      'No valid API key: missing, malformed, unknown, expired or revoked (the answer does not say which). Send `Authorization: Bearer qk_live_…` or `x-api-key: qk_live_…`.',
    examples: [{ code: ErrorCode.Unauthenticated, message: 'a valid API key is required (Authorization: Bearer … or x-api-key)' }],
    headers: { 'www-authenticate': { description: 'The scheme to authenticate with.', schema: { type: 'string', examples: ['Bearer'] } } },
  },
  403: {
    name: 'Forbidden',
    description: "The key's role is below the route's, or the tenant has reached its document quota.",
    examples: [
      { code: ErrorCode.Forbidden, message: "this key's role (read) cannot POST /api/documents; it needs the write role" },
      { code: ErrorCode.QuotaExceeded, message: 'tenant acme has reached its quota of 100000 documents; delete documents, or ask the operator to raise the quota' },
    ],
  },
  404: {
    name: 'NotFound',
    description: "No such resource in the key's tenant (another tenant's ids are unknown too).",
    examples: [{ code: ErrorCode.NotFound, message: 'document 3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b not found' }],
  },
  409: {
    name: 'Conflict',
    description: 'The resource is not in a state that allows this (a finished job cannot be cancelled).',
    examples: [{ code: ErrorCode.Conflict, message: 'job ingest-3f1c2a9e-… is already indexed; nothing to cancel' }],
  },
  413: {
    name: 'PayloadTooLarge',
    description:
      'The body is over its limit (refused from the headers alone when Content-Length says so; the connection is then closed), or the tenant has reached its quota of stored bytes.',
    examples: [
      { code: ErrorCode.PayloadTooLarge, message: 'the upload is larger than the configured limit (MAX_UPLOAD_BYTES = 52428800 bytes)' },
      {
        code: ErrorCode.StorageQuotaExceeded,
        message:
          '"scan.pdf" (10485760 bytes) does not fit in the storage quota of tenant acme: 21470000000 of 21474836480 bytes are in use, 4836480 left; delete documents, or ask the operator to raise the quota',
      },
    ],
  },
  415: {
    name: 'UnsupportedType',
    description: 'The content is not a supported document type (detected from the bytes, not the name).',
    examples: [{ code: ErrorCode.UnsupportedType, message: 'unsupported document type: application/zip' }],
  },
  422: {
    name: 'UnprocessableDocument',
    description: 'The document cannot be processed as it is.',
    examples: [{ code: ErrorCode.EmptyDocument, message: '"notes.txt" is empty' }],
  },
  429: {
    name: 'RateLimited',
    description: 'Too many requests for the key, or too many open progress streams; retry after the time given.',
    examples: [
      { code: ErrorCode.RateLimited, message: 'too many requests for this key: at most 1200 requests a minute; retry in 12 s' },
      { code: ErrorCode.RateLimited, message: 'at most 100 progress streams per key may be open at once (SSE_MAX_STREAMS_PER_KEY); close one or retry later' },
    ],
    headers: {
      ...retryAfter('(when the rate-limit window that refused the request ends, or a stream slot frees up)'),
      ...RATE_LIMIT_HEADERS,
    },
  },
  500: {
    name: 'InternalError',
    description: 'A bug. The message says nothing more; the correlation id finds it in the logs.',
    examples: [{ code: ErrorCode.Internal, message: INTERNAL_MESSAGE }],
  },
  502: {
    name: 'UpstreamModelError',
    description: 'The configured language model endpoint failed to answer.',
    examples: [{ code: ErrorCode.UpstreamModelError, message: 'the language model endpoint did not answer' }],
  },
  503: {
    name: 'ServiceUnavailable',
    description: 'A dependency is down (Postgres, Redis, a service with no live worker) or did not answer in time; the message says which.',
    examples: [{ code: ErrorCode.ServiceUnavailable, message: 'the database (Postgres) is unavailable; retry shortly' }],
    headers: retryAfter(`(${RETRY_AFTER_SECONDS[ErrorCode.ServiceUnavailable]} s: outages usually last seconds)`),
  },
};

/** The public codes answered with this status, from HTTP_STATUS_OF. */
export function codesOfStatus(status: number): ErrorCode[] {
  return PUBLIC_ERROR_CODES.filter((code) => HTTP_STATUS_OF[code] === status);
}
