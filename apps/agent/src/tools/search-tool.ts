import { JobName, SearchHit, type SearchFilters } from '@quarry/contracts';
import type { JobClient } from '@quarry/transport';
import { z } from 'zod';
import type { AgentTool } from './agent-tool';

const SearchInput = z.object({
  query: z.string().trim().min(1).max(2000).describe('What to look for, in the words the documents would use.'),
  topK: z.number().int().min(1).max(50).optional().describe('How many passages to return (default: the question\'s topK).'),
  entity: z.string().max(200).optional().describe('The one thing this search is about, when the question is about several (used to pick its figures).'),
  documentIds: z.array(z.uuid()).max(100).optional().describe('Search only these documents (narrows the question\'s own filters, never widens them).'),
});
const SearchOutput = z.object({ query: z.string(), hits: z.array(SearchHit) });

/**
 * Retrieval over the caller's tenant, inside the question's filters: the retrieval service answers
 * over its queue. A step can narrow the filters to some documents; it can never leave them.
 */
export function createSearchTool(jobs: JobClient, defaultTopK: () => number = () => 6): AgentTool<typeof SearchInput, typeof SearchOutput> {
  return {
    name: 'search',
    description: 'Search the user\'s documents for passages relevant to a query. Use one search per entity when a question is about several.',
    input: SearchInput,
    output: SearchOutput,
    timeoutMs: 10_000,
    async run(input, context) {
      // The queue request cannot be withdrawn; the registry stops waiting for it when the signal aborts.
      const reply = await jobs.request(JobName.SearchChunks, {
        tenantId: context.tenantId,
        query: input.query,
        topK: input.topK ?? defaultTopK(),
        filters: narrowed(context.filters, input.documentIds),
      });
      return { query: input.query, hits: reply.hits };
    },
    summarize: (output) =>
      output.hits.length === 0 ? `no passages for "${output.query}"` : `${output.hits.length} passages for "${output.query}", best from ${output.hits[0].filename}`,
  };
}

/** The question's filters, narrowed to `documentIds` (their intersection when the filters name documents too). */
function narrowed(filters: SearchFilters | undefined, documentIds: string[] | undefined): SearchFilters | undefined {
  if (!documentIds) return filters;
  const allowed = filters?.documentIds ? documentIds.filter((id) => filters.documentIds?.includes(id)) : documentIds;
  return { ...filters, documentIds: allowed };
}
