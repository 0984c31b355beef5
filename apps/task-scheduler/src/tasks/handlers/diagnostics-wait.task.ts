import type { TaskParamsOf } from '@quarry/contracts';
import { abortableDelay } from '@quarry/domain';
import type { TaskHandler, TaskRunContext } from '../task-handler';

/**
 * `diagnostics.wait`: waits, reporting progress each second, so an operator can see that tasks
 * run, report progress, retry (`failAttempts`), time out and cancel on this deployment.
 */
export class DiagnosticsWaitTask implements TaskHandler<'diagnostics.wait'> {
  readonly type = 'diagnostics.wait';

  async run(params: TaskParamsOf<'diagnostics.wait'>, context: TaskRunContext): Promise<unknown> {
    if (context.attempt <= params.failAttempts) throw new Error(`failing attempt ${context.attempt} of the first ${params.failAttempts}, as asked`);
    const totalMs = params.seconds * 1000;
    const started = performance.now();
    for (let waited = 0; waited < totalMs; ) {
      await abortableDelay(Math.min(1000, totalMs - waited), context.signal);
      waited = performance.now() - started;
      context.progress(Math.min(100, (waited / totalMs) * 100), `waited ${(waited / 1000).toFixed(1)} of ${params.seconds} s`);
    }
    return { waitedSeconds: Number(((performance.now() - started) / 1000).toFixed(3)), attempt: context.attempt };
  }
}
