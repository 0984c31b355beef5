import type { IncomingHttpHeaders } from 'node:http';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
const BASIC = /^Basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i;

/** The password of `Authorization: Basic`, the key for browsers (the queue dashboard): they prompt for it and send it on every request. */
function basicPassword(authorization: string): string | undefined {
  const encoded = BASIC.exec(authorization)?.[1];
  if (encoded === undefined) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1).trim() || undefined;
}

/**
 * The key a request presents: `Authorization: Bearer <key>` (what OpenAI-style clients send) or
 * `x-api-key: <key>`; on operators' pages (`basic`) also `Authorization: Basic` with the key as
 * password (any user name). Undefined when there is none, or when the request is ambiguous (two
 * different keys, a repeated header): such a request is refused like one without a key.
 */
export function presentedKey(headers: IncomingHttpHeaders, options: { basic?: boolean } = {}): string | undefined {
  const authorization = headers.authorization;
  const fromAuthorization = typeof authorization === 'string' ? (BEARER.exec(authorization)?.[1] ?? (options.basic ? basicPassword(authorization) : undefined)) : undefined;
  const header = headers['x-api-key'];
  if (Array.isArray(header)) return undefined;
  const apiKey = typeof header === 'string' ? header.trim() : undefined;
  if (fromAuthorization !== undefined && apiKey !== undefined && apiKey !== '' && apiKey !== fromAuthorization) return undefined;
  return fromAuthorization ?? (apiKey || undefined);
}
