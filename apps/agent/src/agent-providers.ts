import type { Provider } from '@nestjs/common';
import { type AnswerGenerator, createOpenAiClient } from '@quarry/llm';
import type { Logger, ServiceMetrics } from '@quarry/observability';
import type { DataSource } from '@quarry/persistence';
import { DATA_SOURCE, JOB_CLIENT, LOGGER, METRICS, SERVICE_CONFIG } from '@quarry/service-kit';
import type { JobClient } from '@quarry/transport';
import type { AgentConfig } from './config';
import { type ContextBudget, type QueryExpansion, buildAgentFlow } from './graph/agent-graph';
import type { AgentSettings } from './graph/agent-settings';
import { AgentMetrics } from './metrics/agent-metrics';
import { judgementsFromConfig } from './reasoning/judgements-from-config';
import { createCalculatorTool } from './tools/calculator-tool';
import { createDatabaseTool } from './tools/database/database-tool';
import { createDocumentTool } from './tools/document-tool';
import { createSearchTool } from './tools/search-tool';
import { ToolRegistry } from './tools/tool-registry';
import { AGENT_FLOW, AGENT_METRICS, AGENT_SETTINGS, ANSWER_GENERATOR, CONTEXT_BUDGET, FOLLOW_UP_MODEL, type FollowUpModel, QUERY_EXPANSION } from './tokens';

const TOOL_NAMES = ['search', 'calculator', 'database', 'document'] as const;

/** The agent's graph and what it is built from: bounds, metrics, tools, judgements (local, or the chat model's). */
export const agentProviders: Provider[] = [
  {
    provide: AGENT_SETTINGS,
    inject: [SERVICE_CONFIG],
    useFactory: (config: AgentConfig): AgentSettings => ({
      refineThreshold: config.AGENT_REFINE_THRESHOLD,
      maxRefinements: config.AGENT_MAX_REFINEMENTS,
      maxToolCalls: config.AGENT_MAX_TOOL_CALLS,
      timeBudgetMs: config.AGENT_TIME_BUDGET_MS,
      tokenBudget: config.AGENT_TOKEN_BUDGET,
    }),
  },
  {
    provide: AGENT_METRICS,
    inject: [METRICS, ANSWER_GENERATOR],
    useFactory: (metrics: ServiceMetrics, generator: AnswerGenerator) => new AgentMetrics(metrics.registry, TOOL_NAMES, [generator.model]),
  },
  {
    provide: FOLLOW_UP_MODEL,
    inject: [SERVICE_CONFIG],
    useFactory: (config: AgentConfig): FollowUpModel | null =>
      config.LLM_BASE_URL && config.LLM_MODEL
        ? { client: createOpenAiClient({ baseUrl: config.LLM_BASE_URL, apiKey: config.LLM_API_KEY, timeoutMs: config.LLM_TIMEOUT_MS }), name: config.LLM_MODEL }
        : null,
  },
  {
    provide: AGENT_FLOW,
    inject: [SERVICE_CONFIG, JOB_CLIENT, DATA_SOURCE, ANSWER_GENERATOR, CONTEXT_BUDGET, QUERY_EXPANSION, AGENT_SETTINGS, AGENT_METRICS, LOGGER],
    useFactory: (
      config: AgentConfig,
      jobs: JobClient,
      dataSource: DataSource,
      generator: AnswerGenerator,
      context: ContextBudget,
      expansion: QueryExpansion | null,
      settings: AgentSettings,
      metrics: AgentMetrics,
      logger: Logger,
    ) => {
      const tools = new ToolRegistry(
        [createSearchTool(jobs), createCalculatorTool(), createDatabaseTool(dataSource), createDocumentTool(dataSource)],
        (call) => {
          metrics.toolCalls.inc({ tool: call.tool, outcome: call.outcome });
          metrics.toolDuration.observe({ tool: call.tool }, call.durationMs / 1000);
        },
        (tool, error) => logger.error('a tool failed', { tool, error: (error as Error).message }),
      );
      return buildAgentFlow({
        jobs,
        generator,
        context,
        expansion: expansion ?? undefined,
        judgements: judgementsFromConfig(config, logger, tools.names()),
        tools,
        settings,
        onNode: (node, seconds, outcome) => metrics.nodeDuration.observe({ node, outcome }, seconds),
      });
    },
  },
];
