import { AnswerQuestionReply, AnswerStreamEvent, Citation, SearchFilters, safeText } from '@quarry/contracts';
import { z } from 'zod';

// The shapes of `POST /api/query`. The OpenAPI document (apps/gateway/src/openapi) is generated
// from these very objects.

export const QueryBody = z
  .object({
    question: safeText(z.string().trim().min(1, 'question must not be empty').max(4000)).meta({
      description: 'The question, 1-4000 characters; no NUL characters (U+0000) or lone UTF-16 surrogates.',
    }),
    filters: SearchFilters.optional().meta({
      description: 'Search only documents with all of these tags, under this folder, or among these ids.',
    }),
    topK: z.number().int().min(1).max(50).optional().meta({ description: 'How many passages the answer may draw on (default 6).' }),
    conversationId: z.uuid().optional().meta({
      description: 'Continue this conversation (the id a previous answer returned): earlier exchanges inform the answer.',
    }),
    maxRefinements: z.number().int().min(0).max(3).optional().meta({
      description: 'Refine rounds the answer may take when its evaluation is low (default AGENT_MAX_REFINEMENTS); 0 answers from the first round.',
    }),
    stream: z.boolean().optional().meta({
      description: 'Answer as server-sent events (`step`, `sources`, `token`, `citation`, then `done` with the whole reply), as `Accept: text/event-stream` does.',
    }),
  })
  .strict()
  .meta({
    examples: [{ question: 'How many vacation days do we get?', filters: { tags: ['hr'], folder: '/company' }, topK: 6 }],
  });

/** The answer as the agent service replies it, passed through unchanged. */
export const QueryReply = AnswerQuestionReply.meta({
  description: 'The answer, the passages it cites (`[n]` in the answer is `citations[n-1]`), and where the time went.',
  examples: [
    {
      answer: 'Employees receive 27 days of paid vacation per year [1].',
      citations: [
        {
          index: 1,
          documentId: '3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b',
          chunkId: '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a',
          filename: 'handbook.md',
          snippet: 'Every employee receives 27 days of paid vacation per calendar year.',
          score: 0.031,
          provenance: { page: 3 },
        },
      ],
      generator: 'extractive',
      conversationId: '0b1c2d3e-4f5a-4b6c-9d7e-8f9a0b1c2d3e',
      timings: { retrievalMs: 12, generationMs: 3, totalMs: 17 },
    },
  ],
});
export type QueryReply = z.output<typeof QueryReply>;

/** What `error` events carry: the gateway's public error (never internal text). */
export const QueryStreamError = z.object({
  code: z.string().meta({ description: 'The error code, as in error responses.' }),
  message: z.string(),
  correlationId: z.string().optional(),
});

const stepEvent = AnswerStreamEvent.options[0];

/** The events of a streamed answer (`"stream": true` or `Accept: text/event-stream`), in the order they come. */
export const QUERY_STREAM_EVENTS = {
  step: { data: stepEvent.omit({ type: true }), description: 'A step of the agent started or finished (retrieve, generate …).' },
  sources: { data: z.object({ sources: z.array(Citation) }), description: 'The passages the answer draws on, numbered as it cites them.' },
  token: { data: z.object({ delta: z.string() }), description: 'The next piece of the answer; all of them together are the answer.' },
  citation: { data: z.object({ citation: Citation }), description: 'A passage the answer cites (`[n]`), once its text is complete; every cited passage has one before `done`.' },
  done: { data: QueryReply, description: 'The whole reply, as a request without streaming gets it; the stream ends after it.' },
  error: { data: QueryStreamError, description: 'The answer failed (code and message as in error responses); the stream ends after it.' },
} as const;
