import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository root (the folder holding nx.json), found from here whether run from source or dist/. */
export function repoRoot(from: string = __dirname): string {
  let folder = from;
  while (!existsSync(join(folder, 'nx.json'))) {
    const parent = dirname(folder);
    if (parent === folder) throw new Error(`no nx.json above ${from}`);
    folder = parent;
  }
  return folder;
}
