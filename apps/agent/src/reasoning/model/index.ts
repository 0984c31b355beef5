export { ChatModel, type ChatModelOptions, type ModelCall } from './chat-model';
export { completeStructured, parseJsonObject, InvalidModelOutputError, type StructuredRequest } from './structured-output';
export { withFallback, type FallbackListener, type JudgementFallback, type ModelJudgement, type ModelJudgementOptions } from './fallback';
export { ModelAnalyzer, ANALYZE_SYSTEM_PROMPT, type ModelAnalyzerOptions } from './model-analyzer';
export { ModelPlanner, PLAN_SYSTEM_PROMPT, readPlan, type ModelPlannerOptions } from './model-planner';
export { ModelSynthesizer, SYNTHESIZE_SYSTEM_PROMPT, type ModelSynthesizerOptions } from './model-synthesizer';
export { ModelEvaluator, EVALUATE_SYSTEM_PROMPT, ModelScores, type ModelEvaluatorOptions } from './model-evaluator';
export { createModelJudgements } from './model-judgements';
export { STEP_REFERENCE, stepReferences } from './step-references';
