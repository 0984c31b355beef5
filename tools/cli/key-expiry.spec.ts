import { parseExpiry } from './key-expiry';

describe('parseExpiry (npm run keys)', () => {
  const now = Date.parse('2026-12-02T00:00:00Z');

  it('reads durations in hours, days and weeks from now', () => {
    expect(parseExpiry({ in: '12h' }, now)?.toISOString()).toBe('2026-12-02T12:00:00.000Z');
    expect(parseExpiry({ in: '30d' }, now)?.toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(parseExpiry({ in: '2w' }, now)?.toISOString()).toBe('2026-12-16T00:00:00.000Z');
  });

  it('reads an ISO date, and no option means no expiry', () => {
    expect(parseExpiry({ at: '2027-01-31T00:00:00Z' }, now)?.toISOString()).toBe('2027-01-31T00:00:00.000Z');
    expect(parseExpiry({}, now)).toBeNull();
  });

  it('refuses the past, nonsense and both options at once', () => {
    expect(() => parseExpiry({ at: '2020-01-01' }, now)).toThrow('the expiry must be in the future');
    expect(() => parseExpiry({ in: '0d' }, now)).toThrow('the expiry must be in the future');
    expect(() => parseExpiry({ in: '30 days' }, now)).toThrow('--expires-in must be');
    expect(() => parseExpiry({ at: 'soon' }, now)).toThrow('is not a date');
    expect(() => parseExpiry({ at: '2027-01-01', in: '1d' }, now)).toThrow('not both');
  });
});
