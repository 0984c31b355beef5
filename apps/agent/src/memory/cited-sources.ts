// An answer that travelled as text only (the OpenAI-compatible API) carries its sources as inline
// [n] markers and a list after a "Sources:" line, one entry per line:
//   [1] handbook.md              1. handbook.md (p. 3)          - [2] policy.pdf — 3f1c2a9e-…
// The list is read leniently (markdown emphasis, bullets, numbering of any of these kinds).

const SOURCES_HEADING = /^\s*(?:#{1,6}\s*)?(?:\*\*|__)?\s*(?:sources|references|citations)\s*:?\s*(?:\*\*|__)?\s*:?\s*(.*)$/i;
const ENTRY = /^\s*(?:[-*•]\s*)?(?:\[(\d+)\]|\(?(\d+)[.):])?\s*(.+?)\s*$/;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const FILENAME = /[^\s/\\()[\]<>"'`,;]+\.[A-Za-z0-9]{1,8}(?![A-Za-z0-9])/;
const CITATION_GROUP = /\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]/g;

export interface ParsedSources {
  /** The answer without its sources list. */
  text: string;
  documentIds: string[];
  filenames: string[];
}

interface Entry {
  index?: number;
  documentIds: string[];
  filename?: string;
}

function entryOf(line: string): Entry | undefined {
  const match = ENTRY.exec(line.replace(/[*_`]/g, ''));
  if (!match) return undefined;
  const rest = match[3];
  const documentIds = [...rest.matchAll(UUID)].map(([id]) => id.toLowerCase());
  const withoutIds = rest.replace(UUID, ' ');
  const filename = FILENAME.exec(withoutIds)?.[0] ?? (withoutIds.replace(/[—–:|()-]+/g, ' ').trim() || undefined);
  const number = match[1] ?? match[2];
  return { index: number === undefined ? undefined : Number(number), documentIds, filename };
}

function citedIndexes(text: string): Set<number> {
  const cited = new Set<number>();
  for (const [, group] of text.matchAll(CITATION_GROUP)) for (const part of group.split(/[,;]/)) cited.add(Number(part.trim()));
  return cited;
}

/** The sources an answer lists (those its [n] markers cite, when it has markers) and its text without the list. */
export function parseSourcesOf(answer: string): ParsedSources {
  const lines = answer.split('\n');
  // The last "Sources:" heading: an answer may mention the word earlier in its prose.
  let start = -1;
  for (let index = lines.length - 1; index >= 0; index--) {
    if (SOURCES_HEADING.test(lines[index])) {
      start = index;
      break;
    }
  }
  if (start < 0) return { text: answer.trim(), documentIds: [], filenames: [] };
  const text = lines.slice(0, start).join('\n').trim();
  const inline = SOURCES_HEADING.exec(lines[start])?.[1] ?? '';
  const rawEntries = [...(inline ? inline.split(/[;,](?=\s*\[?\d)/) : []), ...lines.slice(start + 1)].filter((line) => line.trim().length > 0);
  const entries = rawEntries.map(entryOf).filter((entry): entry is Entry => entry !== undefined);
  const cited = citedIndexes(text);
  const kept = cited.size === 0 ? entries : entries.filter((entry) => entry.index === undefined || cited.has(entry.index));
  return {
    text,
    documentIds: [...new Set(kept.flatMap((entry) => entry.documentIds))],
    filenames: [...new Set(kept.flatMap((entry) => (entry.filename ? [entry.filename] : [])))],
  };
}
