import { ExtractiveAnswerGenerator } from './extractive-answer-generator';
import { LocalHashingEmbedder } from './local-hashing-embedder';
import { OpenAiChatGenerator } from './openai-chat-generator';
import { OpenAiEmbedder } from './openai-embedder';
import { createAnswerGenerator, createEmbedder, isLlmConfigured } from './providers';

describe('createEmbedder', () => {
  it('builds the local hashing embedder, 384 dimensions unless configured', () => {
    const embedder = createEmbedder({ provider: 'local' });
    expect(embedder).toBeInstanceOf(LocalHashingEmbedder);
    expect(embedder).toMatchObject({ model: 'local-hash-v1-384', dimensions: 384 });
    expect(createEmbedder({ provider: 'local', dimensions: 256 }).dimensions).toBe(256);
  });

  it('builds an OpenAI-compatible embedder with the given model and size', () => {
    const embedder = createEmbedder({ provider: 'openai', baseUrl: 'http://localhost:11434/v1', model: 'nomic-embed-text', dimensions: 768 });
    expect(embedder).toBeInstanceOf(OpenAiEmbedder);
    expect(embedder).toMatchObject({ model: 'nomic-embed-text', dimensions: 768 });
  });

  it("defaults to OpenAI's small embedding model", () => {
    expect(createEmbedder({ provider: 'openai', apiKey: 'sk-test' })).toMatchObject({ model: 'text-embedding-3-small', dimensions: 1536 });
  });
});

describe('createAnswerGenerator', () => {
  it('answers extractively when no LLM is configured', () => {
    expect(createAnswerGenerator({})).toBeInstanceOf(ExtractiveAnswerGenerator);
    expect(createAnswerGenerator({ baseUrl: 'http://localhost:11434/v1' })).toBeInstanceOf(ExtractiveAnswerGenerator);
    expect(createAnswerGenerator({ model: 'llama3.1' })).toBeInstanceOf(ExtractiveAnswerGenerator);
    expect(createAnswerGenerator({ baseUrl: ' ', model: 'llama3.1' })).toBeInstanceOf(ExtractiveAnswerGenerator);
  });

  it('uses the LLM when both endpoint and model are set', () => {
    const config = { baseUrl: 'http://localhost:11434/v1', model: 'llama3.1', maxTokens: 300, timeoutMs: 5000 };
    expect(isLlmConfigured(config)).toBe(true);
    const generator = createAnswerGenerator(config);
    expect(generator).toBeInstanceOf(OpenAiChatGenerator);
    expect(generator.model).toBe('llama3.1');
  });
});
