import type { Judgements } from '../judgements';
import { ChatModel, type ChatModelOptions } from './chat-model';
import type { FallbackListener } from './fallback';
import { ModelAnalyzer } from './model-analyzer';
import { ModelEvaluator } from './model-evaluator';
import { ModelPlanner } from './model-planner';
import { ModelSynthesizer } from './model-synthesizer';

/** The four judgements by one chat model, each falling back on its local counterpart. */
export function createModelJudgements(options: { model: ChatModelOptions | ChatModel; local: Judgements; onFallback?: FallbackListener; toolNames?: string[] }): Judgements {
  const chat = options.model instanceof ChatModel ? options.model : new ChatModel(options.model);
  const { local, onFallback } = options;
  return {
    analyzer: new ModelAnalyzer({ chat, fallback: local.analyzer, onFallback, toolNames: options.toolNames }),
    planner: new ModelPlanner({ chat, fallback: local.planner, onFallback }),
    synthesizer: new ModelSynthesizer({ chat, fallback: local.synthesizer, onFallback }),
    evaluator: new ModelEvaluator({ chat, fallback: local.evaluator, onFallback }),
  };
}
