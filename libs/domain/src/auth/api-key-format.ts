import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * Quarry API keys, GitHub-token style: `qk_live_` + 30 random base62 characters + 6 base62
 * characters of CRC32 over everything before them. The prefix makes a leaked key recognisable (to
 * people and to secret scanners); the checksum lets the gateway refuse a mistyped or made-up key
 * without a database lookup. Only the SHA-256 of a key is ever stored: a key carries about 178
 * bits of randomness, so a fast hash is the right tool (no salt or slow KDF needed).
 */
export const API_KEY_PREFIX = 'qk_live_';
const RANDOM_LENGTH = 30;
const CHECKSUM_LENGTH = 6;
export const API_KEY_LENGTH = API_KEY_PREFIX.length + RANDOM_LENGTH + CHECKSUM_LENGTH;
/** How many leading characters of a key are shown in listings (`qk_live_AbCd`): enough to tell keys apart, useless to an attacker. */
export const DISPLAY_PREFIX_LENGTH = 12;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const KEY_PATTERN = new RegExp(`^${API_KEY_PREFIX}[0-9A-Za-z]{${RANDOM_LENGTH + CHECKSUM_LENGTH}}$`);

/** Uniformly random base62: bytes of 248 and above are thrown away, so that `% 62` has no bias. */
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

/** CRC32 of the body as exactly six base62 digits (62^6 > 2^32, so every value fits). */
export function apiKeyChecksum(body: string): string {
  let value = crc32(body);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

export interface GeneratedApiKey {
  /** The secret itself: shown once, never stored. */
  key: string;
  /** SHA-256 (hex) of the key: what is stored and looked up. */
  hash: string;
  displayPrefix: string;
}

export function generateApiKey(): GeneratedApiKey {
  const body = API_KEY_PREFIX + randomBase62(RANDOM_LENGTH);
  const key = body + apiKeyChecksum(body);
  return { key, hash: hashApiKey(key), displayPrefix: displayPrefixOf(key) };
}

/** True when the text has the shape of a Quarry key and its checksum matches (a typo almost surely breaks it). */
export function isWellFormedApiKey(text: string): boolean {
  if (text.length !== API_KEY_LENGTH || !KEY_PATTERN.test(text)) return false;
  const body = text.slice(0, -CHECKSUM_LENGTH);
  return apiKeyChecksum(body) === text.slice(-CHECKSUM_LENGTH);
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function displayPrefixOf(key: string): string {
  return key.slice(0, DISPLAY_PREFIX_LENGTH);
}
