import { ErrorCode } from '@quarry/contracts';
import { type Dependency, type DependencyEndpoints, DomainError, isDomainError, outageOf } from '@quarry/domain';

/**
 * The dependency (Postgres or Redis) whose outage made a step fail, or undefined when it failed
 * because of the document or a bug. Outages do not count against the document: the step is retried,
 * and after its last attempt the reconciler re-drives it once the dependency is back. A socket error
 * naming another host (a model endpoint) is not one of ours: it counts.
 */
export function dependencyOutage(error: unknown, endpoints: DependencyEndpoints): Dependency | undefined {
  if (isDomainError(error)) {
    const dependency = error.code === ErrorCode.ServiceUnavailable ? error.details?.dependency : undefined;
    return dependency === 'postgres' || dependency === 'redis' ? dependency : undefined;
  }
  const found = outageOf(error, endpoints);
  return found === 'postgres' || found === 'redis' ? found : undefined;
}

/**
 * What a step in flight is stopped with when its worker shuts down: retryable (another worker
 * takes the released job), and recorded as an interruption, not a failure.
 */
export function workerShutdownError(): DomainError {
  return new DomainError(ErrorCode.ServiceUnavailable, 'the worker shut down while running this step; another worker takes it over');
}

/** BullMQ's reason for a job whose worker died (lock lost) more often than allowed while running it. */
export function isStalledTooOften(failedReason: string | undefined): boolean {
  return failedReason !== undefined && /stalled more than allowable limit/i.test(failedReason);
}

/** The readable failure recorded for a step whose workers kept dying while running it. */
export function stalledFailureMessage(stage: string): string {
  return `the ${stage} step stopped its worker twice (the process crashed, ran out of memory or was killed)`;
}
