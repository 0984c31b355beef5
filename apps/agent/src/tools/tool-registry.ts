import { inSpan } from '@quarry/observability';
import { raceAbort } from '@quarry/domain';
import { z } from 'zod';
import type { ToolDescription } from '../reasoning/judgements';
import { type AgentTool, type ToolContext, ToolInputError } from './agent-tool';

export type ToolOutcome = 'ok' | 'error' | 'timeout' | 'refused';

export interface ToolCallResult {
  tool: string;
  outcome: ToolOutcome;
  output?: unknown;
  /** The one line the trace keeps: the tool's summary of its output, or why it failed. */
  summary: string;
  durationMs: number;
}

/** Told of every call, for the metrics. */
export type ToolCallListener = (result: ToolCallResult) => void;

/**
 * The tools the agent may call, by name. A call validates the input (a plan's or a model's
 * arguments are untrusted), runs the tool under its timeout and the query's signal, validates the
 * output, and never throws: a failure is a result the plan and the trace see.
 */
export class ToolRegistry {
  private readonly tools = new Map<string, AgentTool>();

  constructor(
    tools: AgentTool[],
    private readonly onCall: ToolCallListener = () => undefined,
    /** A tool's own failure (not a refusal): its message is logged, never put in the trace, which clients read. */
    private readonly onFailure: (tool: string, error: unknown) => void = () => undefined,
  ) {
    for (const tool of tools) {
      if (this.tools.has(tool.name)) throw new Error(`two tools are named ${tool.name}`);
      this.tools.set(tool.name, tool);
    }
  }

  has(name: string): boolean {
    return this.tools.has(name);
  }

  names(): string[] {
    return [...this.tools.keys()];
  }

  /** The tools as a model is told about them for function calling: name, description, the input's JSON schema. */
  describe(): ToolDescription[] {
    return [...this.tools.values()].map((tool) => ({
      name: tool.name,
      description: tool.description,
      parameters: z.toJSONSchema(tool.input, { io: 'input' }),
    }));
  }

  /** One tool call in a GenAI `execute_tool` span; its outcome (ok, refused, timeout, error) goes on the span too. */
  call(name: string, rawInput: unknown, context: ToolContext): Promise<ToolCallResult> {
    return inSpan(`execute_tool ${name}`, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': name }, async (span) => {
      const result = await this.run(name, rawInput, context);
      span.setAttribute('quarry.tool.outcome', result.outcome);
      return result;
    });
  }

  private async run(name: string, rawInput: unknown, context: ToolContext): Promise<ToolCallResult> {
    const started = performance.now();
    const finish = (outcome: ToolOutcome, summary: string, output?: unknown): ToolCallResult => {
      const result = { tool: name, outcome, output, summary, durationMs: performance.now() - started };
      this.onCall(result);
      return result;
    };
    const tool = this.tools.get(name);
    if (!tool) return finish('refused', `no tool is named "${name}"`);
    const input = tool.input.safeParse(rawInput);
    if (!input.success) return finish('refused', `invalid input: ${z.prettifyError(input.error).replaceAll('\n', '; ')}`);

    const timeout = AbortSignal.timeout(tool.timeoutMs);
    const signal = AbortSignal.any([context.signal, timeout]);
    try {
      const output = await raceAbort(tool.run(input.data, { ...context, signal }), signal);
      const checked = tool.output.parse(output);
      return finish('ok', tool.summarize(checked), checked);
    } catch (error) {
      if (error instanceof ToolInputError) return finish('refused', error.message);
      if (timeout.aborted && !context.signal.aborted) return finish('timeout', `no result within ${tool.timeoutMs} ms`);
      if (context.signal.aborted) throw context.signal.reason;
      this.onFailure(name, error);
      return finish('error', `the ${name} tool failed`);
    }
  }
}
