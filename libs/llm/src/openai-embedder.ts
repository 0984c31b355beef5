import { traceModelCall } from '@quarry/observability';
import type OpenAI from 'openai';
import type { Embedder } from './embedder.port';
import { toEndpointError } from './endpoint-error';
import { createOpenAiClient, trimTrailingSlashes, type OpenAiEndpointOptions } from './openai-client';
import { l2Normalize } from './vector-math';

export const DEFAULT_EMBEDDING_BATCH_SIZE = 64;
// Generous: a CPU-only model server can take a while for a full batch, but a hung one must not stall ingest forever.
export const DEFAULT_EMBEDDING_TIMEOUT_MS = 120_000;

export interface OpenAiEmbedderOptions extends OpenAiEndpointOptions {
  model: string;
  /** Size of the vectors the model returns; checked on every response. */
  dimensions: number;
  /** Texts per request. Local servers are often slower with large batches; OpenAI allows up to 2048. */
  batchSize?: number;
  /**
   * Whether to ask the server to shorten vectors to `dimensions`. Only some models can (OpenAI's
   * text-embedding-3 family); others reject or ignore the parameter, so by default it is sent only to
   * those.
   */
  sendDimensions?: boolean;
}

/** Embeddings from any server that speaks OpenAI's `POST /embeddings`. */
export class OpenAiEmbedder implements Embedder {
  readonly model: string;
  readonly dimensions: number;
  private readonly client: OpenAI;
  private readonly baseUrl: string;
  private readonly batchSize: number;
  private readonly sendDimensions: boolean;
  private readonly timeoutMs: number;

  constructor(private readonly options: OpenAiEmbedderOptions) {
    if (!Number.isInteger(options.dimensions) || options.dimensions < 1) {
      throw new Error(`Embedding dimensions must be a positive integer, got ${options.dimensions}`);
    }
    const batchSize = options.batchSize ?? DEFAULT_EMBEDDING_BATCH_SIZE;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new Error(`Embedding batch size must be a positive integer, got ${batchSize}`);
    }
    this.model = options.model;
    this.dimensions = options.dimensions;
    this.batchSize = batchSize;
    this.sendDimensions = options.sendDimensions ?? options.model.startsWith('text-embedding-3');
    this.baseUrl = trimTrailingSlashes(options.baseUrl);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_EMBEDDING_TIMEOUT_MS;
    this.client = createOpenAiClient({ ...options, timeoutMs: this.timeoutMs });
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    const vectors: Float32Array[] = texts.map(() => new Float32Array(this.dimensions));
    // Blank texts are rejected by OpenAI ("input cannot be an empty string") and carry no meaning:
    // they keep the zero vector, like the local embedder, and are not sent.
    const positions = texts.flatMap((text, position) => (text.trim() === '' ? [] : [position]));
    // Sequential batches: a self-hosted model server handles one batch at a time anyway, and
    // parallel requests would only queue there while holding more memory here.
    for (let start = 0; start < positions.length; start += this.batchSize) {
      const batchPositions = positions.slice(start, start + this.batchSize);
      const batchVectors = await this.embedBatch(batchPositions.map((position) => texts[position]));
      batchPositions.forEach((position, i) => (vectors[position] = batchVectors[i]));
    }
    return vectors;
  }

  private async embedBatch(batch: string[]): Promise<Float32Array[]> {
    let response: OpenAI.CreateEmbeddingResponse;
    const startedAt = performance.now();
    try {
      response = await traceModelCall({ operation: 'embeddings', model: this.model, baseUrl: this.baseUrl }, () =>
        this.client.embeddings.create({
          model: this.model,
          input: batch,
          // Plain floats: the client's default base64 encoding is not implemented by every compatible server.
          encoding_format: 'float',
          ...(this.sendDimensions ? { dimensions: this.dimensions } : {}),
        }),
      );
    } catch (error) {
      throw toEndpointError(error, {
        ...this.errorContext(),
        operation: `embeddings with model "${this.model}"`,
        elapsedMs: performance.now() - startedAt,
      });
    }
    if (response.data.length !== batch.length) {
      throw new Error(`Embedding endpoint ${this.baseUrl} returned ${response.data.length} vectors for ${batch.length} texts`);
    }
    // Servers may answer out of order; `index` is authoritative.
    const ordered = [...response.data].sort((a, b) => a.index - b.index);
    return ordered.map(({ embedding }) => {
      if (embedding.length !== this.dimensions) {
        throw new Error(
          `Embedding model "${this.model}" at ${this.baseUrl} returned vectors of ${embedding.length} dimensions, ` +
            `but ${this.dimensions} are configured; set the embedding dimensions to ${embedding.length} ` +
            `(and re-index) or choose a model that produces ${this.dimensions}`,
        );
      }
      return l2Normalize(embedding);
    });
  }

  private errorContext(): { baseUrl: string; apiKey?: string; timeoutMs?: number } {
    return { baseUrl: this.baseUrl, apiKey: this.options.apiKey, timeoutMs: this.timeoutMs };
  }
}
