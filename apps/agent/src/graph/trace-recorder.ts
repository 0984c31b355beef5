import type { AnswerStreamEvent, TraceStep } from '@quarry/contracts';
import type { ModelCallRecord } from '../reasoning/judgements';

type Without<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A step as the graph records it; the recorder stamps when it happened. */
export type StepRecord = Without<TraceStep, 'atMs'>;

/**
 * The audit trail of one query, in the order things happened, with times since the query began.
 * It also counts the tokens the query spent, for the reply's usage and the token budget.
 */
export class TraceRecorder {
  readonly startedAt = new Date();
  private readonly started = performance.now();
  private readonly recorded: TraceStep[] = [];
  readonly usage = { promptTokens: 0, completionTokens: 0 };

  elapsedMs(): number {
    return performance.now() - this.started;
  }

  add(step: StepRecord, atMs = this.elapsedMs()): void {
    this.recorded.push({ ...step, atMs });
  }

  model(call: ModelCallRecord): void {
    this.usage.promptTokens += call.promptTokens;
    this.usage.completionTokens += call.completionTokens;
    this.add({ type: 'model', ...call }, Math.max(0, this.elapsedMs() - call.durationMs));
  }

  get steps(): readonly TraceStep[] {
    return this.recorded;
  }

  get totalTokens(): number {
    return this.usage.promptTokens + this.usage.completionTokens;
  }
}

/** Where one run's progress goes: its trace, its stream (when the client streams), its cancellation. */
export interface AgentRun {
  trace: TraceRecorder;
  /** Publishes a stream event; a no-op when nobody streams. */
  emit(event: AnswerStreamEvent): void;
  /** Whether anybody listens to the stream: the answer's tokens are only produced as deltas then. */
  streaming: boolean;
  signal: AbortSignal;
  /** Set once the answer's text went out as token events (then it is not sent again at the end). */
  tokensSent: boolean;
}

export function quietRun(signal: AbortSignal = new AbortController().signal): AgentRun {
  return { trace: new TraceRecorder(), emit: () => undefined, streaming: false, signal, tokensSent: false };
}
