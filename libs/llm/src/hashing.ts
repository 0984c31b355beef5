const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * 32-bit FNV-1a over the UTF-16 code units of `text`, with a seed mixed into the offset basis so one
 * function yields independent hashes (bucket and sign). Pure integer arithmetic: the same text gives
 * the same hash in every process and on every platform, which keeps stored vectors valid.
 */
export function fnv1a32(text: string, seed = 0): number {
  let hash = (FNV_OFFSET_BASIS ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, FNV_PRIME);
  }
  return avalanche(hash);
}

/** MurmurHash3's finaliser: FNV's low bits are weak, and bucket choice is `hash % dimensions`. */
function avalanche(hash: number): number {
  let h = hash >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
