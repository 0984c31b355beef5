/**
 * `npm run upload -- <folder> [--url URL] [--api-key KEY] [--tenant ID] [--tags a,b] [--folder /path]
 *                            [--concurrency N] [--wait]`
 *
 * The key (a `write` key; `--api-key` or QUARRY_API_KEY) decides the tenant. `--tenant` is for a
 * gateway in AUTH_MODE=trusted-header behind a proxy: it sends the tenant in x-tenant-id.
 *
 * Uploads every document under a folder to Quarry with a progress bar, a few at a time, and with
 * --wait follows ingestion until each document is indexed or failed. Prints every failure with its
 * reason; exits 1 if any file failed.
 */
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { collectFiles } from './collect-files';
import { mapBounded } from './map-bounded';
import { QuarryApi, type UploadOutcome } from './quarry-api';

const TERMINAL = new Set(['indexed', 'failed', 'cancelled']);

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: 'string', default: process.env.QUARRY_URL ?? 'http://localhost:3000' },
      'api-key': { type: 'string', default: process.env.QUARRY_API_KEY },
      tenant: { type: 'string' },
      tags: { type: 'string', default: '' },
      folder: { type: 'string' },
      concurrency: { type: 'string', default: '4' },
      wait: { type: 'boolean', default: false },
    },
  });
  const root = positionals[0];
  if (!root) {
    console.error('usage: npm run upload -- <folder> [--url URL] [--api-key KEY] [--tenant ID] [--tags a,b] [--folder /path] [--concurrency N] [--wait]');
    return 2;
  }
  const api = new QuarryApi(values.url.replace(/\/+$/, ''), { apiKey: values['api-key'], tenant: values.tenant });
  const placement = { tags: values.tags.split(',').map((tag) => tag.trim()).filter(Boolean), folder: values.folder };
  const { files, skipped } = await collectFiles(root);
  console.log(`${files.length} documents to upload from ${root}${skipped.length > 0 ? ` (${skipped.length} other files skipped)` : ''}`);

  const bar = new SingleBar({ format: 'upload  [{bar}] {value}/{total} {percentage}% | failed {failed}', noTTYOutput: true, notTTYSchedule: 2000 });
  let failed = 0;
  bar.start(files.length, 0, { failed });
  const uploads = await mapBounded(files, Number(values.concurrency), async (file) => {
    try {
      return await api.upload(file.path, placement);
    } catch (error) {
      failed++;
      throw error;
    } finally {
      bar.increment({ failed });
    }
  });
  bar.stop();

  const problems: string[] = [];
  const accepted: Array<{ path: string; outcome: UploadOutcome }> = [];
  uploads.forEach((result, index) => {
    if (result.status === 'fulfilled') accepted.push({ path: files[index].path, outcome: result.value });
    else problems.push(`${files[index].path}: ${(result.reason as Error).message}`);
  });
  const duplicates = accepted.filter((item) => item.outcome.duplicate).length;
  console.log(`uploaded ${accepted.length - duplicates} new, ${duplicates} already present, ${problems.length} failed`);

  if (values.wait && accepted.length > 0) {
    const follow = new SingleBar({ format: 'ingest  [{bar}] {value}/{total} {percentage}% | failed {failed}', noTTYOutput: true, notTTYSchedule: 2000 });
    let finished = 0;
    let ingestFailed = 0;
    follow.start(accepted.length, 0, { failed: 0 });
    await mapBounded(accepted, 8, async ({ path, outcome }) => {
      for (;;) {
        const state = await api.job(outcome.jobId);
        if (TERMINAL.has(state.status)) {
          if (state.status !== 'indexed') {
            ingestFailed++;
            problems.push(`${path}: ${state.status}${state.error ? ` — ${state.error}` : ''}`);
          }
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      finished++;
      follow.update(finished, { failed: ingestFailed });
    });
    follow.stop();
    console.log(`indexed ${accepted.length - ingestFailed}, failed ${ingestFailed}`);
  }
  for (const problem of problems) console.log(`  ✗ ${problem}`);
  return problems.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error((error as Error).message);
    process.exit(1);
  },
);
