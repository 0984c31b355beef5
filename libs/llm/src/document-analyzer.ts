import { traceModelCall } from '@quarry/observability';
import { z } from 'zod';
import { toEndpointError } from './endpoint-error';
import { createOpenAiClient } from './openai-client';

export interface ModelDocumentAnalysis {
  summary: string;
  suggestedTags: string[];
  language: string;
  chunkingRecommendation?: string;
}

const AnalysisShape = z.object({
  summary: z.string().trim().min(1).max(2000),
  tags: z.array(z.string().trim().min(1).max(40)).max(12).catch([]),
  language: z.string().trim().min(2).max(12).catch('und'),
  chunking: z.string().trim().max(300).optional().catch(undefined),
});

const SYSTEM_PROMPT = `You analyse documents for a search system. Reply with one JSON object only:
{"summary": "<2-3 sentences>", "tags": ["<up to 8 short topic tags>"], "language": "<ISO 639-1 code>",
 "chunking": "<one sentence: how to split this document for retrieval>"}`;

/**
 * Reads a model's answer defensively: the first {...} block in the text (models wrap JSON in prose
 * or code fences), validated field by field; bad optional fields are dropped, a missing summary
 * makes the whole answer unusable (undefined).
 */
export function parseModelAnalysis(reply: string): ModelDocumentAnalysis | undefined {
  const start = reply.indexOf('{');
  const end = reply.lastIndexOf('}');
  if (start < 0 || end <= start) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(reply.slice(start, end + 1));
  } catch {
    return undefined;
  }
  const parsed = AnalysisShape.safeParse(raw);
  if (!parsed.success) return undefined;
  return {
    summary: parsed.data.summary,
    suggestedTags: [...new Set(parsed.data.tags.map((tag) => tag.toLowerCase()))],
    language: parsed.data.language.toLowerCase(),
    ...(parsed.data.chunking ? { chunkingRecommendation: parsed.data.chunking } : {}),
  };
}

/** Asks an OpenAI-compatible chat model for a summary, tags, language and a chunking recommendation. */
export class OpenAiDocumentAnalyzer {
  constructor(private readonly options: { baseUrl: string; model: string; apiKey?: string; timeoutMs?: number }) {}

  get model(): string {
    return this.options.model;
  }

  async analyze(filename: string, excerpt: string, signal?: AbortSignal): Promise<ModelDocumentAnalysis | undefined> {
    const client = createOpenAiClient({ baseUrl: this.options.baseUrl, apiKey: this.options.apiKey, timeoutMs: this.options.timeoutMs, maxRetries: 1 });
    const started = Date.now();
    try {
      const call = { operation: 'chat', model: this.options.model, baseUrl: this.options.baseUrl, purpose: 'analyze-document' } as const;
      const completion = await traceModelCall(call, () => client.chat.completions.create(
        {
          model: this.options.model,
          temperature: 0,
          max_tokens: 400,
          messages: [
            { role: 'system', content: SYSTEM_PROMPT },
            { role: 'user', content: `File: ${filename}\n\n${excerpt}` },
          ],
        },
        { signal },
      ));
      return parseModelAnalysis(completion.choices[0]?.message?.content ?? '');
    } catch (error) {
      throw toEndpointError(error, {
        baseUrl: this.options.baseUrl,
        apiKey: this.options.apiKey,
        operation: `document analysis with model "${this.options.model}"`,
        timeoutMs: this.options.timeoutMs,
        elapsedMs: Date.now() - started,
      });
    }
  }
}
