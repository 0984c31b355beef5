import type { AnswerRoute, AnswerScores } from '@quarry/contracts';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AgentNodeName } from '../graph/agent-nodes';
import type { ToolOutcome } from '../tools/tool-registry';

const NODES: readonly AgentNodeName[] = ['analyze', 'retrieve', 'generate', 'plan', 'execute', 'synthesize', 'evaluate', 'refine'];
const TOOL_OUTCOMES: readonly ToolOutcome[] = ['ok', 'error', 'timeout', 'refused'];
const ROUTES: readonly AnswerRoute[] = ['simple', 'complex'];
const REFINE_ACTIONS = ['rephrase', 'broaden', 'replan'] as const;
const SCORE_DIMENSIONS = ['groundedness', 'coverage', 'citationValidity', 'overall'] as const;
const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const SCORE_BUCKETS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

/**
 * The agent's metrics, on the service's registry. The seed's names where they fit
 * (rag_request_duration_seconds, rag_tokens_used_total, rag_active_requests); quarry_agent_* for
 * the graph. Every counter's known series exist from the start at zero, so a rate() over a fresh
 * process is 0, not absent.
 */
export class AgentMetrics {
  readonly requestDuration: Histogram<'operation' | 'model' | 'cache_hit'>;
  readonly tokens: Counter<'model' | 'type'>;
  readonly activeRequests: Gauge;
  readonly nodeDuration: Histogram<'node' | 'outcome'>;
  readonly toolCalls: Counter<'tool' | 'outcome'>;
  readonly toolDuration: Histogram<'tool'>;
  readonly evaluationScore: Histogram<'dimension'>;
  readonly refinements: Counter<'action'>;
  readonly routes: Counter<'route'>;
  readonly timeToFirstToken: Histogram<'model'>;

  constructor(registry: Registry, toolNames: readonly string[], models: readonly string[]) {
    const registers = [registry];
    this.requestDuration = new Histogram({
      name: 'rag_request_duration_seconds',
      help: 'Time to answer a question in the agent, by operation (answer, answer-stream), answering model and whether it came from a cache.',
      labelNames: ['operation', 'model', 'cache_hit'] as const,
      buckets: SECONDS,
      registers,
    });
    this.tokens = new Counter({ name: 'rag_tokens_used_total', help: 'Tokens spent by chat model calls, by model and type (prompt, completion).', labelNames: ['model', 'type'] as const, registers });
    this.activeRequests = new Gauge({ name: 'rag_active_requests', help: 'Questions the agent is answering now.', registers });
    this.nodeDuration = new Histogram({ name: 'quarry_agent_node_duration_seconds', help: 'Time in each node of the agent graph.', labelNames: ['node', 'outcome'] as const, buckets: SECONDS, registers });
    this.toolCalls = new Counter({ name: 'quarry_agent_tool_calls_total', help: 'Tool calls by tool and outcome (ok, error, timeout, refused).', labelNames: ['tool', 'outcome'] as const, registers });
    this.toolDuration = new Histogram({ name: 'quarry_agent_tool_duration_seconds', help: 'Duration of tool calls.', labelNames: ['tool'] as const, buckets: SECONDS, registers });
    this.evaluationScore = new Histogram({ name: 'quarry_agent_evaluation_score', help: 'Evaluation scores of answers (0..1), by dimension; one observation per evaluated round.', labelNames: ['dimension'] as const, buckets: SCORE_BUCKETS, registers });
    this.refinements = new Counter({ name: 'quarry_agent_refinements_total', help: 'Refine rounds taken, by action (rephrase, broaden, replan).', labelNames: ['action'] as const, registers });
    this.routes = new Counter({ name: 'quarry_agent_routes_total', help: 'Questions by the route the analysis chose.', labelNames: ['route'] as const, registers });
    this.timeToFirstToken = new Histogram({ name: 'quarry_agent_time_to_first_token_seconds', help: 'From taking a streamed question to publishing its first answer token.', labelNames: ['model'] as const, buckets: SECONDS, registers });

    for (const model of models) for (const type of ['prompt', 'completion']) this.tokens.inc({ model, type }, 0);
    for (const tool of toolNames) for (const outcome of TOOL_OUTCOMES) this.toolCalls.inc({ tool, outcome }, 0);
    for (const action of REFINE_ACTIONS) this.refinements.inc({ action }, 0);
    for (const route of ROUTES) this.routes.inc({ route }, 0);
    for (const node of NODES) this.nodeDuration.zero({ node, outcome: 'ok' });
  }

  scores(scores: AnswerScores): void {
    for (const dimension of SCORE_DIMENSIONS) this.evaluationScore.observe({ dimension }, scores[dimension]);
  }
}
