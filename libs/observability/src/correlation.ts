import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

interface CorrelationContext {
  correlationId: string;
}

// One store per process: an HTTP request or a job handler runs inside it, and every log line and
// every job it enqueues picks the id up from here, so one id follows a request across services.
const storage = new AsyncLocalStorage<CorrelationContext>();

export function runWithCorrelationId<T>(correlationId: string, fn: () => T): T {
  return storage.run({ correlationId }, fn);
}

export function currentCorrelationId(): string | undefined {
  return storage.getStore()?.correlationId;
}

export function newCorrelationId(): string {
  return randomUUID();
}
