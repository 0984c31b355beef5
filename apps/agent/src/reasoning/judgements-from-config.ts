import type { Logger } from '@quarry/observability';
import type { AgentConfig } from '../config';
import type { Judgements } from './judgements';
import { GroundingEvaluator } from './local/grounding-evaluator';
import { RuleQuestionAnalyzer } from './local/rule-analyzer';
import { RulePlanner } from './local/rule-planner';
import { RuleSynthesizer } from './local/rule-synthesizer';
import { createModelJudgements } from './model';

/** The local rules: what the agent judges with when no chat model is configured (the default). */
export function localJudgements(): Judgements {
  return { analyzer: new RuleQuestionAnalyzer(), planner: new RulePlanner(), synthesizer: new RuleSynthesizer(), evaluator: new GroundingEvaluator() };
}

/**
 * The judgements for the configuration. AGENT_JUDGEMENTS=auto (the default) uses the chat model's
 * when LLM_BASE_URL and LLM_MODEL are set, each falling back on the rule it replaces when the
 * model fails or its output stays invalid after one repair; `local` keeps the rules even with a
 * model (which then only writes answers on the simple route).
 */
export function judgementsFromConfig(config: AgentConfig, logger: Logger, toolNames: string[]): Judgements {
  const local = localJudgements();
  if (config.AGENT_JUDGEMENTS === 'local' || !config.LLM_BASE_URL || !config.LLM_MODEL) return local;
  return createModelJudgements({
    model: { baseUrl: config.LLM_BASE_URL, apiKey: config.LLM_API_KEY, timeoutMs: config.LLM_TIMEOUT_MS, model: config.LLM_MODEL },
    local,
    toolNames,
    onFallback: (fallback) =>
      logger.warn('a model judgement fell back on the rules', { judgement: fallback.judgement, model: fallback.model, cause: fallback.cause, error: (fallback.error as Error)?.message }),
  });
}
