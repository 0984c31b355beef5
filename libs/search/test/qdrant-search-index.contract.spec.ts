import { randomUUID } from 'node:crypto';
import { QdrantClient } from '@qdrant/js-client-rest';
import { QdrantSearchIndex } from '../src/qdrant/qdrant-search-index';
import { CONTRACT_DIMENSION, describeSearchIndexContract } from './search-index.contract';

/*
 * The shared contract against a real Qdrant, when one is configured:
 *   QDRANT_URL=http://localhost:6333 [QDRANT_API_KEY=…] npx jest --selectProjects search
 * Each test gets its own collection (unique prefix), dropped afterwards.
 */
const url = process.env.QDRANT_URL;
const apiKey = process.env.QDRANT_API_KEY || undefined;

describeSearchIndexContract(
  'QdrantSearchIndex',
  () => {
    const index = new QdrantSearchIndex({
      url: url as string,
      ...(apiKey && { apiKey }),
      embeddingModel: 'contract-suite',
      dimension: CONTRACT_DIMENSION,
      collectionPrefix: `quarry_test_${randomUUID().slice(0, 8)}`,
    });
    const admin = new QdrantClient({ url: url as string, ...(apiKey && { apiKey }), checkCompatibility: false });
    return {
      index,
      dispose: async () => {
        // Best effort: a test that failed before the collection existed leaves nothing to drop.
        await admin.deleteCollection(index.collectionName).catch(() => undefined);
      },
    };
  },
  url ? { timeoutMs: 30_000 } : { skipReason: 'QDRANT_URL is not set, no Qdrant server to run against' },
);
