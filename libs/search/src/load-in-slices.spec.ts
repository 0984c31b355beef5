import { InMemoryHybridIndex } from './in-memory-hybrid-index';
import { loadInSlices } from './load-in-slices';
import type { IndexedChunk } from './search-index.port';
import { TimeSlicer } from './time-slicer';

const chunk = (documentId: string, ordinal: number, tenantId = 'acme'): IndexedChunk => ({
  chunkId: `${documentId}-${ordinal}`,
  documentId,
  tenantId,
  text: `chunk ${ordinal} of ${documentId} about glaciers`,
  vector: Float32Array.from([1, ordinal, 0]),
  tags: [],
  folder: '/',
  filename: `${documentId}.txt`,
  ordinal,
  provenance: {},
});

describe('loadInSlices', () => {
  it('loads documents whose chunks continue on the next page whole', async () => {
    const index = new InMemoryHybridIndex();
    const pages = [[chunk('a', 0), chunk('a', 1)], [chunk('a', 2), chunk('b', 0)], [chunk('b', 1), chunk('c', 0, 'globex')]];
    expect(await loadInSlices(index, pages)).toEqual({ documents: 3, chunks: 6 });
    expect(Object.fromEntries(index.countDocumentChunks('acme'))).toEqual({ a: 3, b: 2 });
    expect(Object.fromEntries(index.countDocumentChunks('globex'))).toEqual({ c: 1 });
  });

  it('gives the event loop back between documents once a slice is used up', async () => {
    const index = new InMemoryHybridIndex();
    async function* pages() {
      for (let page = 0; page < 5; page++) {
        await Promise.resolve(); // as a database read would (without giving the event loop a turn)
        yield Array.from({ length: 4 }, (_, n) => chunk(`d${page * 4 + n}`, 0));
      }
    }
    let chunksWhenOtherWorkRan = -1;
    setImmediate(() => (chunksWhenOtherWorkRan = index.stats().chunks));
    const slicer = new TimeSlicer(0); // every document uses up its slice
    await loadInSlices(index, pages(), slicer);
    expect(slicer.yields).toBe(20);
    // Other work ran in the middle of the load, not before or after it.
    expect(chunksWhenOtherWorkRan).toBeGreaterThan(0);
    expect(chunksWhenOtherWorkRan).toBeLessThan(20);
  });
});
