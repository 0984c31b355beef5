import { type ExecutionContext, createParamDecorator } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { authOf } from '../auth/request-auth';

/**
 * The tenant a request acts for: the one its API key belongs to, or (AUTH_MODE=trusted-header)
 * the one the authenticating proxy named. Resolved by the authentication guard, never read from a
 * header here.
 */
export const Tenant = createParamDecorator((_: unknown, context: ExecutionContext): string => authOf(context.switchToHttp().getRequest<FastifyRequest>()).tenantId);
