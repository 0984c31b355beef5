import type { SearchFilters } from '@quarry/contracts';
import type { z } from 'zod';

/** What every tool call knows about its caller: the tenant it runs for, and when to stop. */
export interface ToolContext {
  /** The tenant the question was asked for: a tool never reaches another tenant's data. */
  tenantId: string;
  /** Aborted when the query is cancelled or the tool's timeout passes. */
  signal: AbortSignal;
  /** The filters the question was asked with: searches stay inside them. */
  filters?: SearchFilters;
}

/**
 * A capability the agent can call in a plan step (or the model by function calling). Its input is
 * validated against `input` before it runs (a model's arguments are untrusted), its output against
 * `output` after; `summarize` is the one line the audit trail keeps of a result.
 */
export interface AgentTool<Input extends z.ZodType = z.ZodType, Output extends z.ZodType = z.ZodType> {
  readonly name: string;
  /** Told to the model with the input's JSON schema: what the tool does and when to use it. */
  readonly description: string;
  readonly input: Input;
  readonly output: Output;
  readonly timeoutMs: number;
  run(input: z.output<Input>, context: ToolContext): Promise<z.output<Output>>;
  summarize(output: z.output<Output>): string;
}

/** A tool's refusal of its input (a forbidden SQL statement, an expression it cannot compute): the caller's fault, never retried. */
export class ToolInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolInputError';
  }
}
