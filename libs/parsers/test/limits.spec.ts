// Hostile and broken input: zip bombs, truncated files, deadlines, cancellation, memory.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument, parseWorkerCount, shutdownParsers } from '../src';
import { buildDocx, failureOf, FIXTURES } from './helpers';

const MB = 1024 * 1024;

afterAll(() => shutdownParsers());

describe('DOCX zip limits', () => {
  it('parses the generated DOCX below the limits', async () => {
    const document = await parseDocument(buildDocx('Hello from a hand-made zip'));
    expect(document.sections).toEqual([{ text: 'Hello from a hand-made zip' }]);
  });

  it('refuses a zip bomb by the central directory (RESOURCE_LIMIT) before inflating it', async () => {
    // Three entries of 8 MB of zeros: ~25 KB on disk, 24 MB declared.
    const bomb = buildDocx('boom', [0, 1, 2].map((index) => ({ name: `word/media/filler${index}.bin`, data: Buffer.alloc(8 * MB) })));
    expect(bomb.length).toBeLessThan(100 * 1024);
    const failure = await failureOf(parseDocument(bomb, { maxDecompressedBytes: 16 * MB }));
    expect(failure.code).toBe('RESOURCE_LIMIT');
    expect(failure.message).toMatch(/decompress to more than 16 MB/);
    // Within a higher limit the same file is fine: the limit, not the file, decided.
    const document = await parseDocument(bomb, { maxDecompressedBytes: 32 * MB });
    expect(document.sections).toEqual([{ text: 'boom' }]);
  });

  it('refuses an entry that inflates past the size its headers declare', async () => {
    const liar = buildDocx('boom', [{ name: 'word/styles.xml', data: Buffer.alloc(4 * MB, 0x20), declaredSize: 1000 }]);
    const failure = await failureOf(parseDocument(liar));
    expect(failure.code).toBe('RESOURCE_LIMIT');
    expect(failure.message).toMatch(/inflates past its declared size/);
  });

  it('refuses too many zip entries', async () => {
    const many = buildDocx('x', Array.from({ length: 50 }, (_, index) => ({ name: `customXml/item${index}.xml`, data: Buffer.from('<a/>') })));
    const failure = await failureOf(parseDocument(many, { maxZipEntries: 20 }));
    expect(failure).toEqual({ code: 'RESOURCE_LIMIT', message: 'the DOCX has 52 zip entries, more than the limit of 20' });
  });

  it('reports a truncated DOCX as CORRUPT_DOCUMENT', async () => {
    const docx = readFileSync(join(FIXTURES, 'tika/testWORD_various.docx'));
    for (const cut of [0.9, 0.5, 0.2]) {
      const failure = await failureOf(parseDocument(docx.subarray(0, Math.floor(docx.length * cut)), { filename: 'various.docx' }));
      expect(failure.code).toBe('CORRUPT_DOCUMENT');
      expect(failure.message).toMatch(/^corrupt DOCX/);
    }
  });

  it('reports a zip with a Word main part that mammoth cannot read as CORRUPT_DOCUMENT', async () => {
    const failure = await failureOf(parseDocument(buildDocx('<unclosed')));
    expect(failure.code).toBe('CORRUPT_DOCUMENT');
  });
});

describe('time, cancellation and memory', () => {
  const tracemonkey = () => readFileSync(join(FIXTURES, 'pdfjs/tracemonkey.pdf'));

  it('stops a parse that passes its deadline with PARSE_TIMEOUT and terminates the worker', async () => {
    await shutdownParsers();
    const failure = await failureOf(parseDocument(tracemonkey(), { timeoutMs: 1 }));
    expect(failure).toEqual({ code: 'PARSE_TIMEOUT', message: 'parsing took longer than the 1 ms allowed' });
    expect(parseWorkerCount()).toBe(0);
    // The next document gets a fresh worker and parses normally.
    const document = await parseDocument(tracemonkey());
    expect(document.metadata.pageCount).toBe(14);
  });

  it('cancels through an AbortSignal, terminating the worker', async () => {
    await shutdownParsers();
    const controller = new AbortController();
    const parsing = parseDocument(tracemonkey(), { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    const failure = await failureOf(parsing);
    expect(failure).toEqual({ code: 'CANCELLED', message: 'parsing was cancelled' });
    expect(parseWorkerCount()).toBe(0);
  });

  it('refuses to start with an already aborted signal', async () => {
    const failure = await failureOf(parseDocument(Buffer.from('text'), { signal: AbortSignal.abort() }));
    expect(failure.code).toBe('CANCELLED');
  });

  it('turns a worker that runs out of heap into RESOURCE_LIMIT', async () => {
    await shutdownParsers();
    const failure = await failureOf(parseDocument(tracemonkey(), { maxHeapMb: 4 }));
    expect(failure).toEqual({ code: 'RESOURCE_LIMIT', message: 'parsing the document needs more than the 4 MB of memory allowed' });
    expect(parseWorkerCount()).toBe(0);
  });

  it('parses several documents at once, each in its own worker', async () => {
    const files = ['pdfjs/tracemonkey.pdf', 'tika/testWORD_various.docx', 'pdfjs/basicapi.pdf', 'mammoth/tables.docx'];
    const documents = await Promise.all(files.map((file) => parseDocument(readFileSync(join(FIXTURES, file)))));
    expect(documents.map((document) => document.format)).toEqual(['pdf', 'docx', 'pdf', 'docx']);
    expect(documents[0].metadata.pageCount).toBe(14);
    expect(documents[3].sections[0].text).toContain('Top left\tTop right');
    expect(parseWorkerCount()).toBeLessThanOrEqual(2); // the idle pool keeps two
  });

  it('rejects nonsensical limits', async () => {
    await expect(parseDocument(tracemonkey(), { timeoutMs: 0 })).rejects.toThrow(RangeError);
  });
});
