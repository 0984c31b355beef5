import type { IncomingHttpHeaders } from 'node:http';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * The key a request presents: `Authorization: Bearer <key>` (what OpenAI-style clients send) or
 * `x-api-key: <key>`. Undefined when there is none, or when the request is ambiguous (two
 * different keys, a repeated header): such a request is refused like one without a key.
 */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  const bearer = typeof authorization === 'string' ? BEARER.exec(authorization)?.[1] : undefined;
  const header = headers['x-api-key'];
  if (Array.isArray(header)) return undefined;
  const apiKey = typeof header === 'string' ? header.trim() : undefined;
  if (bearer !== undefined && apiKey !== undefined && apiKey !== '' && apiKey !== bearer) return undefined;
  return bearer ?? (apiKey || undefined);
}
