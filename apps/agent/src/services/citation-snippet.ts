const MAX_SNIPPET_CHARS = 320;

/** A short excerpt of a cited chunk for the answer's citation list, cut at a word boundary. */
export function citationSnippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= MAX_SNIPPET_CHARS) return flat;
  const cut = flat.lastIndexOf(' ', MAX_SNIPPET_CHARS);
  return `${flat.slice(0, cut > MAX_SNIPPET_CHARS / 2 ? cut : MAX_SNIPPET_CHARS)}…`;
}
