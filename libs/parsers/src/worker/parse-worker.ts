/**
 * Entry of the parse worker thread: takes one task at a time (PDF, DOCX, HTML), answers with plain
 * data or `{ code, message }`. The main thread enforces the deadline and the heap limit by
 * terminating this thread.
 *
 * This file and its siblings in worker/ run two ways: compiled to CommonJS in dist/, and straight
 * from the TypeScript sources (Node strips the types) when the library runs under jest. Node loads
 * a source file that uses `import` as an ES module, whose relative imports would need file
 * extensions that differ between the two (.ts / .js). So these files import only npm packages and
 * Node built-ins, use only erasable TypeScript syntax, and this entry loads its siblings by
 * absolute path with the extension the main thread passes in `workerData`.
 */
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import type * as DocxExtract from './docx-extract';
import type * as HtmlExtract from './html-extract';
import type * as PdfExtract from './pdf-extract';
import type { WorkerErrorCode, WorkerFailure, WorkerInit, WorkerRequest, WorkerResponse, WorkerResult, WorkerTask } from './protocol';

const init = workerData as WorkerInit;

function load<T>(name: string): Promise<T> {
  return import(join(init.moduleDir, `${name}${init.extension}`)) as Promise<T>;
}

async function run(task: WorkerTask): Promise<WorkerResult> {
  switch (task.kind) {
    case 'pdf':
      return (await load<typeof PdfExtract>('pdf-extract')).extractPdf(task.data, init.moduleDir);
    case 'docx':
      return (await load<typeof DocxExtract>('docx-extract')).extractDocx(task.data, task);
    case 'html':
      return (await load<typeof HtmlExtract>('html-extract')).extractHtml(task.html);
  }
}

const CODES: ReadonlySet<string> = new Set<WorkerErrorCode>([
  'EMPTY_DOCUMENT',
  'UNSUPPORTED_TYPE',
  'CORRUPT_DOCUMENT',
  'PASSWORD_REQUIRED',
  'NO_EXTRACTABLE_TEXT',
  'RESOURCE_LIMIT',
  'INTERNAL',
]);

function toFailure(error: unknown): WorkerFailure {
  if (error instanceof Error) {
    const code = (error as { quarryCode?: unknown }).quarryCode;
    if (typeof code === 'string' && CODES.has(code)) return { code: code as WorkerErrorCode, message: error.message };
    // Allocation failures that V8 reports as exceptions rather than by killing the thread.
    if (error instanceof RangeError && /allocation failed|invalid (string|array|typed array) length/i.test(error.message)) {
      return { code: 'RESOURCE_LIMIT', message: `the document needs more memory than allowed (${error.message})` };
    }
    return { code: 'INTERNAL', message: `parser failed: ${error.message}` };
  }
  return { code: 'INTERNAL', message: `parser failed: ${String(error)}` };
}

const heapUsed = () => getHeapStatistics().used_heap_size;

async function handle(request: WorkerRequest): Promise<void> {
  let response: WorkerResponse;
  try {
    const result = await run(request.task);
    response = { id: request.id, ok: true, result, heapUsedBytes: heapUsed() };
  } catch (error) {
    response = { id: request.id, ok: false, error: toFailure(error), heapUsedBytes: heapUsed() };
  }
  parentPort?.postMessage(response);
}

parentPort?.on('message', (request: WorkerRequest) => {
  void handle(request);
});
