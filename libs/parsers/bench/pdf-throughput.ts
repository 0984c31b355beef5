/**
 * PDF text extraction throughput: every text PDF of the shared fixtures, parsed again and again in
 * one warm worker thread (one core), one document at a time.
 *
 *   npm run build && node dist/libs/parsers/bench/pdf-throughput.js [rounds] [fixtures folder]
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseDocument, shutdownParsers } from '../src';

function defaultFixtures(): string {
  let folder = __dirname;
  while (!existsSync(join(folder, 'nx.json')) && dirname(folder) !== folder) folder = dirname(folder);
  return join(folder, '..', 'shared', 'data', 'docs');
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 10);
  const root = process.argv[3] ?? defaultFixtures();
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.pdf'))
    .map((file) => ({ file, bytes: readFileSync(join(root, file)) }));
  const readable: typeof files = [];
  for (const entry of files) {
    // Warm-up (loads pdf.js, fonts, CMaps) and keeps only the PDFs that have a text layer.
    if (await parseDocument(entry.bytes).then(() => true, () => false)) readable.push(entry);
  }
  const perFile = new Map<string, { pages: number; ms: number }>();
  const started = performance.now();
  let pages = 0;
  for (let round = 0; round < rounds; round += 1) {
    for (const { file, bytes } of readable) {
      const t0 = performance.now();
      const document = await parseDocument(bytes);
      const stats = perFile.get(file) ?? { pages: 0, ms: 0 };
      stats.pages += document.metadata.pageCount ?? 0;
      stats.ms += performance.now() - t0;
      perFile.set(file, stats);
      pages += document.metadata.pageCount ?? 0;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  for (const [file, stats] of perFile) {
    process.stdout.write(`${file.padEnd(32)} ${(stats.pages / (stats.ms / 1000)).toFixed(0).padStart(6)} pages/s\n`);
  }
  process.stdout.write(`total: ${pages} pages in ${seconds.toFixed(2)} s = ${(pages / seconds).toFixed(0)} pages/s (one worker)\n`);
  await shutdownParsers();
}

void main();
