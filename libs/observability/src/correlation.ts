import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** Who and what a piece of work belongs to: every log line written inside it carries both. */
export interface RequestContext {
  correlationId: string;
  /** The tenant the request or job acts for, once known (an unauthenticated request has none). */
  tenantId?: string;
}

// One store per process: an HTTP request or a job handler runs inside it, and every log line and
// every job it enqueues picks the id up from here, so one id follows a request across services.
const storage = new AsyncLocalStorage<RequestContext>();

export function runWithContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function runWithCorrelationId<T>(correlationId: string, fn: () => T): T {
  return storage.run({ correlationId }, fn);
}

export function currentCorrelationId(): string | undefined {
  return storage.getStore()?.correlationId;
}

export function currentTenantId(): string | undefined {
  return storage.getStore()?.tenantId;
}

/** Records the tenant on the current context once authentication has resolved it (later log lines carry it). */
export function setCurrentTenant(tenantId: string): void {
  const store = storage.getStore();
  if (store) store.tenantId = tenantId;
}

export function newCorrelationId(): string {
  return randomUUID();
}

/** A job's or request's tenant id as written in its data, when it is a string. */
export function tenantIdIn(data: unknown): string | undefined {
  const { tenantId } = (data ?? {}) as { tenantId?: unknown };
  return typeof tenantId === 'string' ? tenantId : undefined;
}
