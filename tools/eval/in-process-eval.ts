import type { BeirDataset } from '@quarry/eval';
import { LocalHashingEmbedder } from '@quarry/llm';
import { InMemoryHybridIndex, type SearchIndex } from '@quarry/search';

export type RetrievalMode = 'lexical' | 'dense' | 'hybrid';

/**
 * Builds the retrieval service's in-process index straight from a BEIR corpus (one chunk per
 * document, title as the first line, as ingestion of `# title\n\ntext` produces) — no services,
 * for fast experiments on ranking. The official numbers come from the pipeline run in run-eval.ts.
 */
export async function buildInProcessIndex(dataset: BeirDataset, dimensions = 384): Promise<{ index: SearchIndex; embedder: LocalHashingEmbedder }> {
  const embedder = new LocalHashingEmbedder({ dimensions });
  const index: SearchIndex = new InMemoryHybridIndex();
  for (const document of dataset.corpus) {
    const text = document.title ? `${document.title}\n\n${document.text}` : document.text;
    const [vector] = await embedder.embed([text]);
    await index.upsertDocumentChunks('eval', document.id, [
      { chunkId: document.id, documentId: document.id, tenantId: 'eval', text, vector, tags: [], folder: '/', filename: `${document.id}.md`, ordinal: 0, provenance: {} },
    ]);
  }
  return { index, embedder };
}
