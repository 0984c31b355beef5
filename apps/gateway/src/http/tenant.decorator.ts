import { type ExecutionContext, createParamDecorator } from '@nestjs/common';
import { ErrorCode, TenantId } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import type { FastifyRequest } from 'fastify';

export const DEFAULT_TENANT = 'default';

/**
 * The tenant a request acts for, from the `x-tenant-id` header (the default tenant when absent).
 * Authentication is put in front of the gateway by the operator; the header is what it forwards.
 */
export const Tenant = createParamDecorator((_: unknown, context: ExecutionContext): string => {
  const header = context.switchToHttp().getRequest<FastifyRequest>().headers['x-tenant-id'];
  if (header === undefined) return DEFAULT_TENANT;
  const parsed = TenantId.safeParse(header);
  if (!parsed.success) throw new DomainError(ErrorCode.InvalidPayload, `x-tenant-id: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
});
