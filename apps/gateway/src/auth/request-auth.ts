import { type ExecutionContext, createParamDecorator } from '@nestjs/common';
import { ErrorCode } from '@quarry/contracts';
import { type ApiKeyRole, DomainError } from '@quarry/domain';
import type { FastifyRequest } from 'fastify';

/** Who an /api request acts for, as the authentication guard resolved it. */
export interface RequestAuth {
  tenantId: string;
  role: ApiKeyRole;
  /** The key used (null when an authenticating proxy vouched for the request). */
  keyId: string | null;
  via: 'api-key' | 'trusted-header';
}

declare module 'fastify' {
  interface FastifyRequest {
    auth?: RequestAuth;
  }
}

/** The request's identity; a route the guard did not authenticate has none, and that is a bug. */
export function authOf(request: FastifyRequest): RequestAuth {
  if (!request.auth) throw new DomainError(ErrorCode.Internal, `${request.method} ${request.url} reached a handler without authentication`);
  return request.auth;
}

/** The authenticated identity of the request (tenant, role, key). */
export const Auth = createParamDecorator((_: unknown, context: ExecutionContext): RequestAuth => authOf(context.switchToHttp().getRequest<FastifyRequest>()));
