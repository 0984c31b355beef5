import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';

/** Extensions Quarry ingests; anything else in the folder is skipped (and counted). */
export const UPLOADABLE_EXTENSIONS = new Set(['.md', '.markdown', '.txt', '.text', '.pdf', '.docx', '.html', '.htm']);

export interface CollectedFiles {
  files: Array<{ path: string; size: number }>;
  skipped: string[];
}

/** Every uploadable file under `root`, recursively, in a stable order; hidden entries are ignored. */
export async function collectFiles(root: string): Promise<CollectedFiles> {
  const files: CollectedFiles['files'] = [];
  const skipped: string[] = [];
  const walk = async (folder: string): Promise<void> => {
    const entries = (await readdir(folder, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = join(folder, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() && UPLOADABLE_EXTENSIONS.has(extname(entry.name).toLowerCase())) files.push({ path, size: (await stat(path)).size });
      else if (entry.isFile()) skipped.push(path);
    }
  };
  await walk(root);
  return { files, skipped };
}
