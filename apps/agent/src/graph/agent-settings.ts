/** The bounds of one answer: the loop stops on these, never on LangGraph's recursion limit. */
export interface AgentSettings {
  /** An answer whose evaluation's overall score is below this is refined (if rounds are left). */
  refineThreshold: number;
  /** Refine rounds when the request does not say. */
  maxRefinements: number;
  /** Tool calls one answer may make, over all rounds. */
  maxToolCalls: number;
  /** No refine round starts after this long. */
  timeBudgetMs: number;
  /** No refine round starts once model calls have spent this many tokens. */
  tokenBudget: number;
}

export const DEFAULT_AGENT_SETTINGS: AgentSettings = {
  refineThreshold: 0.45,
  maxRefinements: 1,
  maxToolCalls: 16,
  timeBudgetMs: 20_000,
  tokenBudget: 24_000,
};
