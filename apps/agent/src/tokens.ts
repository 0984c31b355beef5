import type OpenAI from 'openai';

export const ANSWER_GENERATOR = Symbol('ANSWER_GENERATOR');
export const CONTEXT_BUDGET = Symbol('CONTEXT_BUDGET');
/** The multi-query expansion settings, or null when QUERY_VARIANTS is 0. */
export const QUERY_EXPANSION = Symbol('QUERY_EXPANSION');
/** The compiled agent graph and its pipeline (AgentFlow). */
export const AGENT_FLOW = Symbol('AGENT_FLOW');
/** The answer loop's bounds (AgentSettings). */
export const AGENT_SETTINGS = Symbol('AGENT_SETTINGS');
export const AGENT_METRICS = Symbol('AGENT_METRICS');
/** The chat model that rewrites follow-up questions, or null (the local rules) without one. */
export const FOLLOW_UP_MODEL = Symbol('FOLLOW_UP_MODEL');
export interface FollowUpModel {
  client: OpenAI;
  name: string;
}
