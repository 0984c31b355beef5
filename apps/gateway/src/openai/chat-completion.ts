import type { Citation } from '@quarry/contracts';
import type { QueryReply } from '../query/query.schemas';
import { type ChatCompletion, type ChatCompletionChunk, type CompletionUsage, QUARRY_MODEL } from './openai.schemas';

// Citations reach every client: the answer keeps its inline `[n]` markers, the content ends with a
// "Sources:" list as text (what a client that shows only `content`, LangChain's included, keeps),
// and `citations` carries them structured for clients that read it.

export const SOURCES_HEADING = 'Sources:';
const SNIPPET_CHARS = 160;

function shortSnippet(snippet: string): string {
  const flat = snippet.replace(/\s+/g, ' ').trim();
  return flat.length <= SNIPPET_CHARS ? flat : `${flat.slice(0, SNIPPET_CHARS - 1).trimEnd()}…`;
}

/** The text appended to an answer: `\n\nSources:\n[1] handbook.md — snippet` per citation; empty without citations. */
export function sourcesList(citations: Citation[]): string {
  if (citations.length === 0) return '';
  const lines = [...citations].sort((a, b) => a.index - b.index).map((citation) => `[${citation.index}] ${citation.filename} — ${shortSnippet(citation.snippet)}`);
  return `\n\n${SOURCES_HEADING}\n${lines.join('\n')}`;
}

export function usageOf(reply: QueryReply): CompletionUsage {
  const usage = reply.usage ?? { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
  return { prompt_tokens: usage.promptTokens, completion_tokens: usage.completionTokens, total_tokens: usage.totalTokens };
}

export const completionId = (id: string) => `chatcmpl-${id}`;
export const unixSeconds = (date = new Date()) => Math.floor(date.getTime() / 1000);

export function chatCompletion(reply: QueryReply, id: string, created: number): ChatCompletion {
  return {
    id: completionId(id),
    object: 'chat.completion',
    created,
    model: QUARRY_MODEL,
    choices: [{ index: 0, message: { role: 'assistant', content: reply.answer + sourcesList(reply.citations), refusal: null }, finish_reason: 'stop', logprobs: null }],
    usage: usageOf(reply),
    citations: reply.citations,
    system_fingerprint: null,
  };
}

/** Makes the chunks of one streamed completion (same id and creation time on each, as OpenAI does). */
export class ChunkWriter {
  private readonly id: string;

  constructor(
    id: string,
    private readonly created: number,
    private readonly includeUsage: boolean,
  ) {
    this.id = completionId(id);
  }

  private chunk(choices: ChatCompletionChunk['choices'], extra: Partial<ChatCompletionChunk> = {}): ChatCompletionChunk {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: QUARRY_MODEL,
      choices,
      // With include_usage every chunk says `usage: null` but the last (OpenAI's convention).
      ...(this.includeUsage ? { usage: null } : {}),
      system_fingerprint: null,
      ...extra,
    };
  }

  role(): ChatCompletionChunk {
    return this.chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null, logprobs: null }]);
  }

  content(delta: string): ChatCompletionChunk {
    return this.chunk([{ index: 0, delta: { content: delta }, finish_reason: null, logprobs: null }]);
  }

  /** What follows the answer's tokens: the sources list, the stop chunk with `citations`, the usage chunk if asked for. */
  finish(reply: QueryReply): ChatCompletionChunk[] {
    const sources = sourcesList(reply.citations);
    return [
      ...(sources ? [this.content(sources)] : []),
      this.chunk([{ index: 0, delta: {}, finish_reason: 'stop', logprobs: null }], { citations: reply.citations }),
      ...(this.includeUsage ? [this.chunk([], { usage: usageOf(reply) })] : []),
    ];
  }
}
