import { ErrorCode } from '@quarry/contracts';
import type { PublicError } from '../http/public-error';
import type { OpenAiErrorBody } from './openai.schemas';

/** Where the OpenAI-compatible API lives: its errors are in OpenAI's shape, which its clients read. */
export const OPENAI_PATH_PREFIX = '/v1';

export function isOpenAiPath(url: string | undefined): boolean {
  return url !== undefined && (url === OPENAI_PATH_PREFIX || url.startsWith(`${OPENAI_PATH_PREFIX}/`) || url.startsWith(`${OPENAI_PATH_PREFIX}?`));
}

/** OpenAI's error `type` by status (what its SDKs and docs use). */
function typeOf(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'invalid_request_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** OpenAI's own codes where one fits; Quarry's code, lower-cased, otherwise. */
function codeOf(error: PublicError): string {
  if (error.code === ErrorCode.Unauthenticated) return 'invalid_api_key';
  if (error.code === ErrorCode.RateLimited) return 'rate_limit_exceeded';
  if (error.code === ErrorCode.NotFound && error.message.startsWith('model ')) return 'model_not_found';
  return error.code.toLowerCase();
}

/** The public error (never internal text: publicErrorOf made it) in OpenAI's shape. */
export function openAiErrorBody(error: PublicError): OpenAiErrorBody {
  return { error: { message: error.message, type: typeOf(error.status), param: null, code: codeOf(error) } };
}
