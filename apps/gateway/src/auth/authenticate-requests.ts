import { setCurrentTenant } from '@quarry/observability';
import type { FastifyInstance } from 'fastify';
import { ADMIN_PREFIX } from '../admin/admin-paths';
import { DOCS_UI_PATH, OPENAPI_JSON_PATH } from '../openapi/route-catalog';
import type { RequestAuthenticator } from './request-authenticator';

/** The API's path prefixes: Quarry's own (/api), the OpenAI-compatible one (/v1) and the operators' pages (/admin). Everything under them needs a key. */
const PROTECTED_PREFIXES = ['/api', '/v1', ADMIN_PREFIX];

/** Routes anyone who can reach the gateway may call: probes, metrics, the API's own documentation. */
export function isPublicRoute(pattern: string): boolean {
  if (pattern === OPENAPI_JSON_PATH || pattern === DOCS_UI_PATH || pattern.startsWith(`${DOCS_UI_PATH}/`)) return true;
  return !PROTECTED_PREFIXES.some((prefix) => pattern === prefix || pattern.startsWith(`${prefix}/`));
}

/**
 * Authenticates every request before anything else is done with it — before its body is read or
 * parsed, before upload limits, before the rate limit — and leaves the identity on `request.auth`.
 * The decision is made on the route Fastify matched (a pattern the client cannot choose), and a
 * request that matches no route needs a key too, so an unauthenticated client cannot even learn
 * which routes exist. Which role a route needs is the Nest guard's business (AuthGuard).
 */
export function authenticateRequests(fastify: FastifyInstance, authenticator: RequestAuthenticator): void {
  fastify.addHook('onRequest', async (request, reply) => {
    const pattern = request.routeOptions.url;
    if (pattern !== undefined && isPublicRoute(pattern)) return;
    // A browser opening an operators' page is asked for the key (Basic: any user name, the key as password).
    request.auth = await authenticator.authenticate(request, reply, pattern === ADMIN_PREFIX || (pattern?.startsWith(`${ADMIN_PREFIX}/`) ?? false));
    // From here on every log line of the request names its tenant.
    setCurrentTenant(request.auth.tenantId);
  });
}
