import { cachedStemCount, stem } from './stem';

describe('stem', () => {
  it('applies Porter2', () => {
    expect(stem('running')).toBe('run');
    expect(stem('generalization')).toBe('general');
    expect(stem('ponies')).toBe('poni');
  });

  it('returns the same stem from the cache', () => {
    expect(stem('connections')).toBe('connect');
    expect(stem('connections')).toBe('connect');
  });

  it('keeps the cache bounded', () => {
    for (let i = 0; i < 30_000; i++) stem(`word${i}ing`);
    expect(cachedStemCount()).toBeLessThanOrEqual(20_000);
    expect(stem('running')).toBe('run'); // still correct after evictions
  });
});
