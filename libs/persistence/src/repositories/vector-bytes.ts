/** Float32 vectors as stored in bytea columns (little-endian, 4 bytes a component). */
export function vectorToBytes(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

export function bytesToVector(bytes: Uint8Array): Float32Array {
  // Copy into an aligned buffer: pg's (or a decoder's) Buffer may start at an odd offset of a shared slab.
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return new Float32Array(copy.buffer, 0, bytes.length / 4);
}
