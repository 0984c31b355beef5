import { ATTACKED_ROUTES, ATTACK_KINDS, CONTROL_KINDS, CONTROL_SHARE, parseProbeArgs, planRequests, seededRandom, unprobedRoutes } from './probe-plan';

describe('planRequests', () => {
  const plan = planRequests(20_000, 4, seededRandom(42));

  it('never aims an attack at its own tenant, and a control always at its own', () => {
    expect(plan.filter((request) => !request.control && request.actor === request.target)).toEqual([]);
    expect(plan.filter((request) => request.control && request.actor !== request.target)).toEqual([]);
  });

  it('sends every kind, every tenant against every other, controls at their share', () => {
    expect(new Set(plan.filter((request) => !request.control).map((request) => request.kind))).toEqual(new Set(ATTACK_KINDS));
    expect(new Set(plan.filter((request) => request.control).map((request) => request.kind))).toEqual(new Set(CONTROL_KINDS));
    expect(new Set(plan.filter((request) => !request.control).map((request) => `${request.actor}>${request.target}`)).size).toBe(12);
    const controls = plan.filter((request) => request.control).length / plan.length;
    expect(Math.abs(controls - CONTROL_SHARE)).toBeLessThan(0.02);
    const questions = plan.filter((request) => request.kind.startsWith('query-')).length / plan.length;
    expect(questions).toBeGreaterThan(0.02);
    expect(questions).toBeLessThan(0.08);
  });

  it('is the same plan for the same seed', () => {
    expect(planRequests(50, 3, seededRandom(7))).toEqual(planRequests(50, 3, seededRandom(7)));
    expect(planRequests(50, 3, seededRandom(7))).not.toEqual(planRequests(50, 3, seededRandom(8)));
  });
});

describe('unprobedRoutes', () => {
  const isPublic = (path: string) => path === '/api/openapi.json' || path.startsWith('/api/docs');

  it('names a served /api route no attack covers, and ignores public and non-/api ones', () => {
    const paths = {
      '/api/documents/{id}': { get: {}, delete: {}, patch: {} },
      '/api/openapi.json': { get: {} },
      '/api/docs': { get: {} },
      '/health/ready': { get: {} },
      '/api/tenants': { get: {} },
    };
    expect(unprobedRoutes(paths, isPublic)).toEqual(['GET /api/tenants', 'PATCH /api/documents/{id}']);
    expect(ATTACKED_ROUTES.has('GET /api/documents/{id}')).toBe(true);
  });
});

describe('parseProbeArgs', () => {
  it('takes defaults, both flag forms, and refuses nonsense', () => {
    expect(parseProbeArgs([], 5)).toEqual({ requests: 10_000, concurrency: 16, tenants: 4, seed: 5 });
    expect(parseProbeArgs(['--requests', '200', '--concurrency=4', '--seed', '0'], 5)).toEqual({ requests: 200, concurrency: 4, tenants: 4, seed: 0 });
    expect(() => parseProbeArgs(['--requests', 'many'], 5)).toThrow(/positive integer/);
    expect(() => parseProbeArgs(['--tenants', '1'], 5)).toThrow(/at least 2/);
    expect(() => parseProbeArgs(['--verbose'], 5)).toThrow(/unknown option/);
  });
});
