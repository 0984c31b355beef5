import { DeepHealth, safeMessage } from './deep-health';

describe('DeepHealth', () => {
  it('is healthy when every check passes, and reports each in the order added', async () => {
    const health = new DeepHealth()
      .add('postgres', () => undefined)
      .add('redis', () => Promise.resolve())
      .add('index', () => ({ ok: true, detail: { chunks: 3 } }));
    const report = await health.report();
    expect(report).toEqual({ healthy: true, checks: { postgres: { ok: true }, redis: { ok: true }, index: { ok: true, detail: { chunks: 3 } } } });
    expect(Object.keys(report.checks)).toEqual(['postgres', 'redis', 'index']);
    expect(health.names()).toEqual(['postgres', 'redis', 'index']);
  });

  it('is unhealthy when one check throws, fails itself or does not answer in time; the others are still reported', async () => {
    const health = new DeepHealth()
      .add('fine', () => ({ ok: true, detail: 'all good' }))
      .add('throws', () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')))
      .add('says no', () => ({ ok: false, error: 'no worker consumes queue agent', detail: { workers: 0 } }))
      .add('hangs', () => new Promise<void>(() => undefined), { timeoutMs: 50 })
      .add('throws synchronously', () => {
        throw new TypeError('bad state');
      });
    const started = Date.now();
    const report = await health.report();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(report).toEqual({
      healthy: false,
      checks: {
        fine: { ok: true, detail: 'all good' },
        throws: { ok: false, error: 'connect ECONNREFUSED 127.0.0.1:5432' },
        'says no': { ok: false, error: 'no worker consumes queue agent', detail: { workers: 0 } },
        hangs: { ok: false, error: 'no answer within 50 ms' },
        'throws synchronously': { ok: false, error: 'bad state' },
      },
    });
  });

  it('runs the checks in parallel, and shares one report among callers who ask while it is made', async () => {
    let runs = 0;
    const slow = () =>
      new Promise<void>((resolve) => {
        runs++;
        setTimeout(resolve, 100);
      });
    const health = new DeepHealth().add('a', slow).add('b', slow).add('c', slow);
    const started = Date.now();
    const [first, second] = await Promise.all([health.report(), health.report()]);
    expect(Date.now() - started).toBeLessThan(250);
    expect(first).toBe(second);
    expect(runs).toBe(3);
    await health.report();
    expect(runs).toBe(6);
  });

  it('refuses a check name registered twice', () => {
    const health = new DeepHealth().add('redis', () => undefined);
    expect(() => health.add('redis', () => undefined)).toThrow(/registered twice/);
  });

  it('is healthy with no checks at all', async () => {
    await expect(new DeepHealth().report()).resolves.toEqual({ healthy: true, checks: {} });
  });
});

describe('safeMessage', () => {
  it('keeps one short line, redacts URL passwords and masks tokens and key=value secrets', () => {
    expect(safeMessage(new Error('cannot reach redis://:hunter2@redis:6379/0\n    at Socket.connect (net.js:1)'))).toBe('cannot reach redis://:***@redis:6379/0');
    expect(safeMessage(new Error('401 from upstream: Authorization: Bearer sk-live-123456 refused'))).toBe('401 from upstream: Authorization: Bearer *** refused');
    expect(safeMessage(new Error('refused api_key=sk-abc&x=1, token: t0k3n'))).toBe('refused api_key=***&x=1, token: ***');
    expect(safeMessage('x'.repeat(500))).toHaveLength(200);
  });

  it('falls back to the error code, then to the value itself', () => {
    expect(safeMessage(Object.assign(new Error(''), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED');
    expect(safeMessage('plain text')).toBe('plain text');
    expect(safeMessage(undefined)).toBe('undefined');
  });
});
