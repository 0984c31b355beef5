import { ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import type { RequestAuth } from './request-auth';

/**
 * Operators are the admin keys of OPERATOR_TENANT. Only they may see or steer what spans every
 * tenant (every tenant's jobs, the machine's alerts, installation-wide tasks): an admin of an
 * ordinary tenant administers that tenant, not the installation.
 */
export function isOperator(auth: RequestAuth, operatorTenant: string): boolean {
  return auth.role === 'admin' && auth.tenantId === operatorTenant;
}

/** Refuses (403) a caller who is not an operator; `what` says what they asked for. */
export function requireOperator(auth: RequestAuth | undefined, operatorTenant: string, what: string): void {
  if (!auth || !isOperator(auth, operatorTenant)) {
    throw new DomainError(ErrorCode.Forbidden, `${what} spans every tenant: it needs an admin key of the operators' tenant (OPERATOR_TENANT)`);
  }
}
