import { rmSync } from 'node:fs';
import { TALLY_DIR_ENV, formatTallies, loadTallies } from './fault-tally';

/** Jest global teardown: prints the suite's fault tally (the figures the README quotes). */
export default function teardown(): void {
  const dir = process.env[TALLY_DIR_ENV];
  if (!dir) return;
  const tallies = loadTallies(dir);
  if (tallies.length > 0) process.stdout.write(formatTallies(tallies));
  rmSync(dir, { recursive: true, force: true });
}
