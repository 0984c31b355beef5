import { randomBytes, randomUUID } from 'node:crypto';

/** A word that appears nowhere but where it was planted: finding it elsewhere proves a leak. */
export const marker = (label: string) => `zq${label}${randomBytes(5).toString('hex')}`;

export const randomSha256 = () => randomBytes(32).toString('hex');
/** A job id of the right shape that names no job of anyone. */
export const randomJobId = () => `ingest-${randomUUID()}-${randomSha256()}`;

/** The victim's indexed document: a handbook whose answer and filename carry markers. */
export function handbook(secret: string): string {
  return `# Acme employee handbook ${secret}

## Vacation

Every Acme employee receives 31 days of paid vacation per calendar year, codeword ${secret}.
Unused vacation days expire on the 31st of March of the following year.

## Equipment

Laptops are replaced every two years; the vault combination is ${secret}.
`;
}

/** The attacker's own document, so its searches have something of its own to find. */
export function rocketManual(secret: string): string {
  return `# Globex rocket manual ${secret}

Rocket fuel is stored in tank seven. The launch window opens at dawn, codeword ${secret}.
`;
}

/** Bytes that look like a PDF and are not one: ingestion fails them as corrupt, fast. */
export function corruptPdf(secret: string): Buffer {
  return Buffer.concat([Buffer.from(`%PDF-1.7\n% ${secret}\n1 0 obj << /Type /Catalog >> broken`), randomBytes(64)]);
}

export function form(files: Array<{ name: string; bytes: string | Buffer }>, fields: Record<string, string> = {}): FormData {
  const data = new FormData();
  for (const { name, bytes } of files) data.append('file', new Blob([typeof bytes === 'string' ? bytes : new Uint8Array(bytes)]), name);
  for (const [key, value] of Object.entries(fields)) data.append(key, value);
  return data;
}
