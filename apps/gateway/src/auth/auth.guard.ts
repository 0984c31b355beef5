import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ErrorCode } from '@quarry/contracts';
import { type ApiKeyRole, DomainError, roleAllows } from '@quarry/domain';
import type { FastifyRequest } from 'fastify';
import { authOf } from './request-auth';
import { REQUIRED_ROLE } from './requires-role.decorator';

/**
 * Checks the role a route requires (`@RequiresRole`) against the identity the onRequest hook
 * established (authenticateRequests). Routes without a role are outside /api (health, metrics);
 * an /api route without one cannot exist (RouteRoleCheck).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const required = this.reflector.getAllAndOverride<ApiKeyRole | undefined>(REQUIRED_ROLE, [context.getHandler(), context.getClass()]);
    if (required === undefined) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const auth = authOf(request);
    if (!roleAllows(auth.role, required)) {
      const who = auth.via === 'api-key' ? `this key's role (${auth.role})` : `the role of proxied requests (AUTH_TRUSTED_ROLE=${auth.role})`;
      throw new DomainError(ErrorCode.Forbidden, `${who} cannot ${request.method} ${request.routeOptions.url ?? request.url}; it needs the ${required} role`);
    }
    return true;
  }
}
