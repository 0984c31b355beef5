export const ANSWER_GENERATOR = Symbol('ANSWER_GENERATOR');
export const CONTEXT_BUDGET = Symbol('CONTEXT_BUDGET');
