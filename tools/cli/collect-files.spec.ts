import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectFiles } from './collect-files';

describe('collectFiles', () => {
  it('finds uploadable files recursively, skips others and hidden entries', async () => {
    const root = await mkdtemp(join(tmpdir(), 'quarry-collect-'));
    try {
      await mkdir(join(root, 'sub'));
      await mkdir(join(root, '.git'));
      await writeFile(join(root, 'b.md'), '# b');
      await writeFile(join(root, 'a.PDF'), '%PDF');
      await writeFile(join(root, 'sub', 'c.docx'), 'x');
      await writeFile(join(root, 'sub', 'photo.png'), 'x');
      await writeFile(join(root, '.git', 'config.txt'), 'x');
      const { files, skipped } = await collectFiles(root);
      expect(files.map((file) => file.path.slice(root.length + 1))).toEqual(['a.PDF', 'b.md', 'sub/c.docx']);
      expect(files[1].size).toBe(3);
      expect(skipped.map((path) => path.slice(root.length + 1))).toEqual(['sub/photo.png']);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
