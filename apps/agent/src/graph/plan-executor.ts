import type { PlanStep, SearchFilters, SearchHit } from '@quarry/contracts';
import type { AnswerPlan, QuestionAnalysis, StepResult } from '../reasoning/judgements';
import { findFigure } from '../reasoning/local/figures';
import type { ToolRegistry } from '../tools/tool-registry';
import type { TraceRecorder } from './trace-recorder';

const PLACEHOLDER = /^\{\{\s*([\w-]+)\s*\}\}$/;

export interface ExecutionContext {
  tenantId: string;
  filters: SearchFilters | undefined;
  analysis: QuestionAnalysis;
  signal: AbortSignal;
  trace: TraceRecorder;
  /** Steps still allowed by the step budget; steps beyond it are not run. */
  stepsLeft: number;
}

/**
 * Runs a plan's steps as their dependencies allow: every step whose dependencies are done starts
 * at once (independent searches run in parallel), a step whose dependency failed is not run. An
 * input value `{{id}}` is the result of step `id`: a search's figure for its entity (the number the
 * calculator needs), a calculation's result, else the step's output.
 */
export async function executePlan(plan: AnswerPlan, tools: ToolRegistry, context: ExecutionContext): Promise<StepResult[]> {
  const results = new Map<string, StepResult>();
  const pending = new Map(plan.steps.map((step) => [step.id, step]));
  let budget = context.stepsLeft;
  while (pending.size > 0) {
    const ready = [...pending.values()].filter((step) => step.dependsOn.every((id) => results.has(id) || !pending.has(id)));
    if (ready.length === 0) {
      // A cycle or a dependency that names no step: what is left cannot run.
      for (const step of pending.values()) results.set(step.id, { step, outcome: 'refused', error: 'its dependencies can never be met' });
      break;
    }
    await Promise.all(
      ready.map(async (step) => {
        pending.delete(step.id);
        if (budget <= 0) {
          results.set(step.id, { step, outcome: 'refused', error: 'the step budget is spent' });
          return;
        }
        budget--;
        results.set(step.id, await runStep(step, results, tools, context));
      }),
    );
  }
  return plan.steps.map((step) => results.get(step.id)).filter((result): result is StepResult => result !== undefined);
}

async function runStep(step: PlanStep, done: ReadonlyMap<string, StepResult>, tools: ToolRegistry, context: ExecutionContext): Promise<StepResult> {
  const failed = step.dependsOn.map((id) => done.get(id)).find((result) => !result || result.outcome !== 'ok');
  if (failed) return refused(step, `step ${failed.step.id} it depends on did not succeed`, context);
  const input = resolveInputs(step.input, done, context.analysis);
  if ('missing' in input) return refused(step, input.missing, context);

  const atMs = context.trace.elapsedMs();
  const call = await tools.call(step.tool, input.value, { tenantId: context.tenantId, filters: context.filters, signal: context.signal });
  context.trace.add({ type: 'tool', stepId: step.id, tool: step.tool, input: input.value, outcome: call.outcome, summary: call.summary, durationMs: call.durationMs }, atMs);
  return call.outcome === 'ok' ? { step, input: input.value, outcome: 'ok', output: call.output } : { step, input: input.value, outcome: call.outcome, error: call.summary };
}

function refused(step: PlanStep, reason: string, context: ExecutionContext): StepResult {
  context.trace.add({ type: 'tool', stepId: step.id, tool: step.tool, input: step.input, outcome: 'refused', summary: `not run: ${reason}`, durationMs: 0 });
  return { step, outcome: 'refused', error: reason };
}

/** The step's input with its `{{id}}` placeholders replaced, or why one cannot be. */
function resolveInputs(input: Record<string, unknown>, done: ReadonlyMap<string, StepResult>, analysis: QuestionAnalysis): { value: Record<string, unknown> } | { missing: string } {
  let missing: string | undefined;
  const resolve = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const match = PLACEHOLDER.exec(value);
      if (!match) return value;
      const result = done.get(match[1]);
      const resolved = result ? valueOf(result, analysis) : undefined;
      if (resolved === undefined) missing ??= result ? `no figure found in the results of step ${match[1]}` : `no step ${match[1]}`;
      return resolved;
    }
    if (Array.isArray(value)) return value.map(resolve);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, resolve(inner)]));
    return value;
  };
  const value = resolve(input) as Record<string, unknown>;
  return missing ? { missing } : { value };
}

function valueOf(result: StepResult, analysis: QuestionAnalysis): unknown {
  if (result.step.tool === 'search') {
    const { hits } = result.output as { hits: SearchHit[] };
    const entity = (result.step.input.entity as string | undefined) ?? (result.step.input.query as string);
    return findFigure(hits, entity, analysis.measure)?.value;
  }
  if (result.step.tool === 'calculator') return (result.output as { result: number }).result;
  return result.output;
}
