import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TALLY_DIR_ENV } from './fault-tally';

/** Jest global setup: a folder the scenarios (in worker processes) write their tallies to. */
export default function setup(): void {
  process.env[TALLY_DIR_ENV] = mkdtempSync(join(tmpdir(), 'quarry-fault-tally-'));
}
