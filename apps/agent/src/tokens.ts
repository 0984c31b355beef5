export const ANSWER_GENERATOR = Symbol('ANSWER_GENERATOR');
export const CONTEXT_BUDGET = Symbol('CONTEXT_BUDGET');
/** The multi-query expansion settings, or null when QUERY_VARIANTS is 0. */
export const QUERY_EXPANSION = Symbol('QUERY_EXPANSION');
