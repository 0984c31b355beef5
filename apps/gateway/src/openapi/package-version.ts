import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The version in the repository's package.json, found from here whether the gateway runs from
 * source, from dist/ or from the image (which keeps package.json beside dist/).
 */
export function packageVersion(from: string = __dirname): string {
  for (let folder = from; ; folder = dirname(folder)) {
    const file = join(folder, 'package.json');
    if (existsSync(file)) {
      const { name, version } = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
      if (name === 'quarry' && typeof version === 'string') return version;
    }
    if (dirname(folder) === folder) throw new Error(`no package.json of quarry above ${from}`);
  }
}
