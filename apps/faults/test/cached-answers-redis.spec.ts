import { waitFor } from '@quarry/testing';
import { useScenario } from '../src/scenario';

jest.setTimeout(180_000);

const TENANT = 'cachefault';
const HANDBOOK = `# Handbook

## Vacation
Every employee receives 27 days of paid vacation per calendar year.

## Equipment
Laptops are replaced every three years.

## Lunch
The cafeteria serves lunch from noon until two.
`;
const CACHED = ['How many days of paid vacation do we get?', 'How often are laptops replaced?', 'When is lunch served?'];

/**
 * The answer cache when Redis dies: the gateway keeps answering what it holds in memory, questions
 * it does not hold fail fast with 503 (the agent is out of reach), and when Redis is back everything
 * works again without restarting anything.
 */
describe('cached answers while Redis is down', () => {
  const scenario = useScenario('answer cache during a Redis outage');

  async function ask(question: string): Promise<{ status: number; cache: string | null; ms: number; retryAfter: string | null; body: Record<string, unknown> }> {
    const started = performance.now();
    const response = await fetch(`${scenario().rig.gatewayUrl}/api/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tenant-id': TENANT },
      body: JSON.stringify({ question }),
    });
    const body = (await response.json()) as Record<string, unknown>;
    return { status: response.status, cache: response.headers.get('x-quarry-cache'), ms: performance.now() - started, retryAfter: response.headers.get('retry-after'), body };
  }

  it('serves cached answers from memory and answers the rest 503 at once; recovers by itself', async () => {
    const { rig } = scenario();
    const form = new FormData();
    form.append('file', new Blob([HANDBOOK]), 'handbook.md');
    const upload = await fetch(`${rig.gatewayUrl}/api/documents`, { method: 'POST', body: form, headers: { 'x-tenant-id': TENANT } });
    expect(upload.status).toBe(202);
    const { documentId } = (await upload.json()) as { documentId: string };
    await waitFor(async () => (await rig.statusOf(documentId)) === 'indexed', { timeoutMs: 30_000, description: 'the handbook to be indexed' });
    const answers = new Map<string, unknown>();
    for (const question of CACHED) {
      const first = await ask(question);
      expect(first.status).toBe(200);
      answers.set(question, first.body.answer);
      expect((await ask(question)).cache).toBe('hit');
    }

    await rig.stopRedis();
    const outageEnds = Date.now() + 4000;
    let cachedServed = 0;
    let refused = 0;
    for (let round = 0; Date.now() < outageEnds; round++) {
      const question = CACHED[round % CACHED.length];
      const cached = await ask(question);
      expect({ question, status: cached.status, cache: cached.cache }).toEqual({ question, status: 200, cache: 'hit' });
      expect(cached.body.answer).toBe(answers.get(question));
      cachedServed++;
      if (round % 5 === 0) {
        const fresh = await ask(`Who approves travel requests? (${round})`);
        expect({ status: fresh.status, code: (fresh.body.error as { code?: string } | undefined)?.code, retryAfter: fresh.retryAfter }).toEqual({
          status: 503,
          code: 'SERVICE_UNAVAILABLE',
          retryAfter: '5',
        });
        expect(fresh.ms).toBeLessThan(2500);
        refused++;
      }
    }
    expect(cachedServed).toBeGreaterThan(10);
    expect(refused).toBeGreaterThan(1);

    await rig.startRedis();
    // Back without restarting a service: new questions are answered, cached ones still served.
    await waitFor(async () => (await ask('Who replaces the laptops?')).status === 200, { timeoutMs: 30_000, intervalMs: 250, description: 'new questions to be answered again' });
    for (const question of CACHED) expect((await ask(question)).cache).toBe('hit');
    const metrics = await (await fetch(`${rig.stack.urlOf('gateway')}/metrics`)).text();
    expect(metrics).toMatch(/quarry_cache_tier_up\{[^}]*tier="redis"[^}]*\} 1/);
    expect(rig.stack.crashes).toEqual([]);
  });
});
