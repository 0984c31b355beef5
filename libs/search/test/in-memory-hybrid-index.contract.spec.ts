import { InMemoryHybridIndex } from '../src/in-memory-hybrid-index';
import { describeSearchIndexContract } from './search-index.contract';

describeSearchIndexContract('InMemoryHybridIndex', () => ({ index: new InMemoryHybridIndex() }));
