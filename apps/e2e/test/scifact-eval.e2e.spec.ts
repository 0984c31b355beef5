import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '@quarry/testing';

// The quality gate: the SciFact evaluation through the real pipeline, in the test command, so a
// retrieval regression cannot land. The harness prints the full table; the test reads hybrid nDCG@10.
jest.setTimeout(240_000);

const MIN_HYBRID_NDCG = 0.68;

describe('SciFact evaluation (BEIR test split, local defaults, through the pipeline)', () => {
  it(`keeps hybrid nDCG@10 at or above ${MIN_HYBRID_NDCG}, and at or above lexical-only`, async () => {
    const harness = join(repoRoot(), 'dist', 'tools', 'eval', 'run-eval.js');
    const dataset = join(repoRoot(), '..', 'shared', 'data', 'ir', 'scifact');
    const run = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(process.execPath, [harness, '--dataset', dataset, '--min-ndcg', String(MIN_HYBRID_NDCG)], { maxBuffer: 10_000_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` }),
      );
    });
    const ndcgOf = (mode: string) => Number(new RegExp(`^${mode}\\s+([0-9.]+)`, 'm').exec(run.output)?.[1]);
    expect({ code: run.code, tail: run.output.slice(-1200) }).toMatchObject({ code: 0 });
    expect(ndcgOf('hybrid')).toBeGreaterThanOrEqual(MIN_HYBRID_NDCG);
    expect(ndcgOf('hybrid')).toBeGreaterThanOrEqual(ndcgOf('lexical') - 0.005);
    expect(ndcgOf('lexical')).toBeGreaterThan(0.6);
  });
});
