import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

/**
 * Writes a secret readable by its owner only: the file is 0600 and, when this creates the folder,
 * the folder is 0700 (an existing folder keeps its mode: it is the operator's). The file is written
 * beside its target and renamed into place, so it is never visible with other permissions or half
 * written. Returns the absolute path.
 */
export async function writeSecretFile(path: string, content: string): Promise<string> {
  const target = resolve(path);
  const folder = dirname(target);
  const created = await mkdir(folder, { recursive: true, mode: 0o700 });
  if (created !== undefined) await chmod(folder, 0o700);
  const temporary = join(folder, `.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temporary, content, { mode: 0o600, flag: 'wx' });
    await chmod(temporary, 0o600);
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return target;
}
