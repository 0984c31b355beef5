import { Citation } from '@quarry/contracts';
import { z } from 'zod';

// The shapes of the OpenAI-compatible API (/v1), as OpenAI's own clients send and read them. The
// request schema is loose: clients send many parameters Quarry has no use for (temperature …),
// and those are ignored; the ones it cannot honour are refused by name (chat-request.ts).

/** The one model this API serves: answers from the caller's documents, with citations. */
export const QUARRY_MODEL = 'quarry';

const ContentPart = z.looseObject({ type: z.string(), text: z.string().optional() });

export const ChatMessage = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z.union([z.string(), z.array(ContentPart)]).nullable().optional(),
  name: z.string().optional(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

export const ChatCompletionBody = z
  .looseObject({
    model: z.string().min(1, 'model is required').meta({ description: `The model: \`${QUARRY_MODEL}\` (GET /v1/models).` }),
    messages: z.array(ChatMessage).min(1, 'messages must hold at least the question').meta({
      description:
        "The conversation: the last message is the user's question, earlier user and assistant messages are its history. System and developer messages are ignored: answers come from the tenant's documents.",
    }),
    stream: z.boolean().nullable().optional().meta({ description: 'Stream `chat.completion.chunk` objects as server-sent events, then `data: [DONE]`.' }),
    stream_options: z
      .looseObject({ include_usage: z.boolean().nullable().optional() })
      .nullable()
      .optional()
      .meta({ description: '`include_usage: true` adds a last chunk with `usage` (and no choices).' }),
    n: z.number().int().nullable().optional().meta({ description: 'Only 1.' }),
    tools: z.array(z.unknown()).nullable().optional().meta({ description: 'Not supported (400).' }),
    tool_choice: z.unknown().optional(),
    functions: z.array(z.unknown()).nullable().optional(),
    function_call: z.unknown().optional(),
    response_format: z.looseObject({ type: z.string() }).nullable().optional().meta({ description: 'Only `{"type":"text"}`.' }),
    logprobs: z.boolean().nullable().optional(),
  })
  .meta({
    description: 'An OpenAI chat completion request. Other OpenAI parameters (temperature, max_tokens, seed, user …) are accepted and ignored.',
    examples: [{ model: QUARRY_MODEL, messages: [{ role: 'user', content: 'How many vacation days do we get?' }], stream: false }],
  });
export type ChatCompletionBody = z.infer<typeof ChatCompletionBody>;

export const CompletionUsage = z.object({
  prompt_tokens: z.number().int().min(0),
  completion_tokens: z.number().int().min(0),
  total_tokens: z.number().int().min(0),
});
export type CompletionUsage = z.infer<typeof CompletionUsage>;

export const ChatCompletion = z
  .object({
    id: z.string(),
    object: z.literal('chat.completion'),
    created: z.number().int(),
    model: z.string(),
    choices: z.array(
      z.object({
        index: z.number().int(),
        message: z.object({ role: z.literal('assistant'), content: z.string(), refusal: z.null() }),
        finish_reason: z.literal('stop'),
        logprobs: z.null(),
      }),
    ),
    usage: CompletionUsage,
    citations: z.array(Citation).meta({ description: 'The passages the answer cites: `[n]` in the content is `citations[n-1]`; the content ends with the same list as text.' }),
    system_fingerprint: z.null(),
  })
  .meta({ description: 'The answer as an OpenAI chat completion, with inline `[n]` markers, a trailing "Sources:" list, and structured `citations`.' });
export type ChatCompletion = z.infer<typeof ChatCompletion>;

export const ChatCompletionChunk = z
  .object({
    id: z.string(),
    object: z.literal('chat.completion.chunk'),
    created: z.number().int(),
    model: z.string(),
    choices: z.array(
      z.object({
        index: z.number().int(),
        delta: z.object({ role: z.literal('assistant').optional(), content: z.string().optional() }),
        finish_reason: z.literal('stop').nullable(),
        logprobs: z.null(),
      }),
    ),
    usage: CompletionUsage.nullable().optional(),
    citations: z.array(Citation).optional().meta({ description: 'On the chunk with `finish_reason: "stop"`.' }),
    system_fingerprint: z.null(),
  })
  .meta({ description: 'A streamed piece: the role first, then content deltas (the answer, then its "Sources:" list), then `finish_reason: "stop"` with `citations`.' });
export type ChatCompletionChunk = z.infer<typeof ChatCompletionChunk>;

export const ModelList = z
  .object({
    object: z.literal('list'),
    data: z.array(z.object({ id: z.string(), object: z.literal('model'), created: z.number().int(), owned_by: z.string() })),
  })
  .meta({ description: 'The models this API serves.' });
export type ModelList = z.infer<typeof ModelList>;

export const OpenAiErrorBody = z
  .object({
    error: z.object({ message: z.string(), type: z.string(), param: z.string().nullable(), code: z.string().nullable() }),
  })
  .meta({ description: "OpenAI's error shape, which its clients read; the message never carries internal text." });
export type OpenAiErrorBody = z.infer<typeof OpenAiErrorBody>;

/** The stream's events as the OpenAPI document lists them (unnamed `data:` lines, as OpenAI sends). */
export const CHAT_STREAM_EVENTS = {
  message: { data: ChatCompletionChunk, description: 'Each `data:` line is a chunk; the last line is `data: [DONE]` (an `{"error":…}` line instead if the answer fails).' },
} as const;
