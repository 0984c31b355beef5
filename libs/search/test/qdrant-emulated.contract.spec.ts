import { randomUUID } from 'node:crypto';
import { QdrantSearchIndex } from '../src/qdrant/qdrant-search-index';
import { EmulatedQdrant } from './emulated-qdrant';
import { CONTRACT_DIMENSION, describeSearchIndexContract } from './search-index.contract';

/*
 * The shared contract through the Qdrant adapter's real HTTP path, against an in-process
 * EMULATION of Qdrant's REST API written from its documentation (see emulated-qdrant.ts). This
 * checks that the adapter's requests, filters and payload round trip add up to the port's
 * behaviour under our reading of Qdrant's semantics; it is not evidence about Qdrant itself (run
 * qdrant-search-index.contract.spec.ts with QDRANT_URL for that).
 */
let qdrant: EmulatedQdrant;

beforeAll(async () => {
  qdrant = await EmulatedQdrant.start();
});

afterAll(async () => {
  await qdrant.close();
});

describeSearchIndexContract('QdrantSearchIndex on an emulated Qdrant (not a real server)', () => ({
  index: new QdrantSearchIndex({
    url: qdrant.url,
    embeddingModel: 'contract-suite',
    dimension: CONTRACT_DIMENSION,
    collectionPrefix: `emulated_${randomUUID().slice(0, 8)}`,
  }),
}));
