// A sentence ends at . ! or ? (optionally followed by closing quotes/brackets) when whitespace and
// something that can start a sentence follow; "e.g. the" and "3.5 km" therefore do not split.
const SENTENCE_BOUNDARY = /(?<=[.!?]["')\]]*)\s+(?=["'([]?[\p{Lu}\p{N}])/u;
// Lines starting with a heading or list marker stand alone even without final punctuation.
const BLOCK_START = /\n(?=\s*(?:#{1,6}\s|[-*•]\s|\d+[.)]\s))/;
const LEADING_MARKER = /^(?:#{1,6}\s+|[-*•]\s+|\d+[.)]\s+)/;
// A heading is one line: the text below it is not part of its "sentence".
const HEADING_LINE_END = /^(\s*#{1,6}\s[^\n]*)\n/;

/**
 * Splits document text into sentences for extractive answering. Chunked document text is messy
 * (hard-wrapped lines, headings, bullet lists, no final punctuation), so paragraphs and list items
 * are split first, whitespace is collapsed, and then sentences are cut at terminal punctuation.
 */
export function splitIntoSentences(text: string): string[] {
  return text
    .split(/\n\s*\n/)
    .flatMap((paragraph) => paragraph.split(BLOCK_START))
    .flatMap((block) => block.split(HEADING_LINE_END))
    .map((block) => block.replace(/\s+/g, ' ').trim().replace(LEADING_MARKER, ''))
    .flatMap((block) => block.split(SENTENCE_BOUNDARY))
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence.length > 0);
}

/** Shortens a sentence at a word boundary so one run-on "sentence" cannot swamp the answer. */
export function truncateAtWord(sentence: string, maxLength: number): string {
  if (sentence.length <= maxLength) return sentence;
  const cut = sentence.slice(0, maxLength);
  const lastSpace = cut.lastIndexOf(' ');
  return `${(lastSpace > maxLength / 2 ? cut.slice(0, lastSpace) : cut).replace(/[\s,;:]+$/, '')}…`;
}
