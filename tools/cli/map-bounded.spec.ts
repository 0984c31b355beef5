import { mapBounded } from './map-bounded';

describe('mapBounded', () => {
  it('keeps at most N tasks in flight and returns results in input order', async () => {
    let inFlight = 0;
    let peak = 0;
    const results = await mapBounded([5, 1, 4, 2, 3], 2, async (delay, index) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, delay * 3));
      inFlight--;
      if (index === 2) throw new Error('third failed');
      return delay * 10;
    });
    expect(peak).toBe(2);
    expect(results.map((result) => (result.status === 'fulfilled' ? result.value : (result.reason as Error).message))).toEqual([50, 10, 'third failed', 20, 30]);
  });

  it('handles an empty list', async () => {
    await expect(mapBounded([], 4, () => Promise.resolve(1))).resolves.toEqual([]);
  });
});
