import { LlmEndpointError } from '@quarry/llm';
import { InvalidModelOutputError } from './structured-output';
import type { ChatModel } from './chat-model';

export type ModelJudgement = 'analyze' | 'plan' | 'synthesize' | 'evaluate';

/** A model judgement that fell back on the local rules, for the logs and metrics. */
export interface JudgementFallback {
  judgement: ModelJudgement;
  model: string;
  /** The local implementation's name. */
  fallback: string;
  cause: 'endpoint' | 'invalid-output' | 'error';
  /** The full error: for the log only (it may name the endpoint), never for the trace. */
  error: unknown;
}
export type FallbackListener = (fallback: JudgementFallback) => void;

/** What every model judgement is built with: the model, the local implementation it falls back on, who hears of it. */
export interface ModelJudgementOptions<Port> {
  chat: ChatModel;
  fallback: Port;
  onFallback?: FallbackListener;
}

const CAUSES: Record<JudgementFallback['cause'], string> = {
  endpoint: 'the model endpoint failed',
  'invalid-output': "the model's output was invalid after one repair",
  error: 'the model call failed',
};

/**
 * The model's judgement, or the local one when the model fails. The listener is told (with the
 * error, for the log); `fallback` is given a note safe to show in the trace (no endpoint text) that
 * says the local rules decided and why. A cancelled query is not a model failure: its abort is
 * thrown, not hidden behind the fallback.
 */
export async function withFallback<T>(
  judgement: ModelJudgement,
  options: { chat: ChatModel; fallbackName: string; onFallback?: FallbackListener; signal: AbortSignal },
  work: () => Promise<T>,
  fallback: (note: string) => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (options.signal.aborted) throw error;
    const cause = error instanceof LlmEndpointError ? 'endpoint' : error instanceof InvalidModelOutputError ? 'invalid-output' : 'error';
    options.onFallback?.({ judgement, model: options.chat.model, fallback: options.fallbackName, cause, error });
    return fallback(`model ${options.chat.model} not used (${CAUSES[cause]}); ${options.fallbackName} decided`);
  }
}

/** A reason with the fallback's note in front, within the schemas' 1000 characters. */
export function noted(note: string, reason: string): string {
  return `${note}: ${reason}`.slice(0, 1000);
}
