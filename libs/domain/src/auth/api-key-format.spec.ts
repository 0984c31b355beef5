import { API_KEY_LENGTH, API_KEY_PREFIX, apiKeyChecksum, displayPrefixOf, generateApiKey, hashApiKey, isWellFormedApiKey } from './api-key-format';

describe('API key format', () => {
  it('generates qk_live_ keys of 44 base62 characters whose checksum verifies', () => {
    const { key, hash, displayPrefix } = generateApiKey();
    expect(key).toMatch(/^qk_live_[0-9A-Za-z]{36}$/);
    expect(key).toHaveLength(API_KEY_LENGTH);
    expect(isWellFormedApiKey(key)).toBe(true);
    expect(hash).toBe(hashApiKey(key));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(displayPrefix).toBe(key.slice(0, 12));
    expect(displayPrefix.startsWith(API_KEY_PREFIX)).toBe(true);
  });

  it('never repeats a key and spreads characters evenly over the alphabet', () => {
    const keys = Array.from({ length: 2000 }, () => generateApiKey().key);
    expect(new Set(keys).size).toBe(keys.length);
    const counts = new Map<string, number>();
    for (const key of keys) for (const char of key.slice(API_KEY_PREFIX.length, -6)) counts.set(char, (counts.get(char) ?? 0) + 1);
    expect(counts.size).toBe(62);
    // 60,000 draws over 62 symbols: about 968 each; a biased generator (e.g. plain byte % 62) shows as a skew.
    for (const count of counts.values()) expect(count).toBeGreaterThan(800);
    for (const count of counts.values()) expect(count).toBeLessThan(1150);
  });

  it('catches a typo: every single-character change of the random part fails the checksum', () => {
    const { key } = generateApiKey();
    let caught = 0;
    let tried = 0;
    for (let position = API_KEY_PREFIX.length; position < key.length; position++) {
      for (const replacement of ['0', 'a', 'Z', 'q']) {
        if (key[position] === replacement) continue;
        tried++;
        if (!isWellFormedApiKey(key.slice(0, position) + replacement + key.slice(position + 1))) caught++;
      }
    }
    expect(caught).toBe(tried);
  });

  it('catches two swapped neighbours', () => {
    const { key } = generateApiKey();
    const position = key.split('').findIndex((char, index) => index >= API_KEY_PREFIX.length && char !== key[index + 1] && index + 1 < key.length);
    const swapped = key.slice(0, position) + key[position + 1] + key[position] + key.slice(position + 2);
    expect(isWellFormedApiKey(swapped)).toBe(false);
  });

  it('refuses what is not a key at all', () => {
    const { key } = generateApiKey();
    for (const text of ['', 'qk_live_', key.slice(0, -1), `${key}0`, key.replace('qk_live_', 'qk_test_'), ` ${key.slice(1)}`, key.toUpperCase(), 'Bearer ' + key]) {
      expect(isWellFormedApiKey(text)).toBe(false);
    }
  });

  it('computes the checksum as six base62 digits of CRC32 (fixed vector)', () => {
    // CRC32("qk_live_" + 30 zeros) is 0xABA5E9E2 (zlib's CRC-32, the one every tool computes).
    const body = `${API_KEY_PREFIX}${'0'.repeat(30)}`;
    const checksum = apiKeyChecksum(body);
    const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    const decoded = [...checksum].reduce((value, char) => value * 62 + BASE62.indexOf(char), 0);
    expect(checksum).toMatch(/^[0-9A-Za-z]{6}$/);
    expect(decoded).toBe(0xaba5e9e2);
    expect(isWellFormedApiKey(body + checksum)).toBe(true);
    expect(displayPrefixOf(body + checksum)).toBe('qk_live_0000');
  });
});
