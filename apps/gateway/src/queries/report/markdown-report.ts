import { type AuditReport, NO_SUPPORT, type ReportField, type ReportValue } from './report-model';

// Markdown of an audit report. Values come from documents and models, so none may turn into
// markup when the report is rendered: each is one line (line breaks folded, so no value starts a
// block of its own), characters that open inline markup are backslash-escaped (no link, image,
// raw HTML, emphasis or entity can be smuggled in), and data is shown in code spans, which
// CommonMark never interprets.

const INLINE_MARKUP = /[\\`*_[\]<>&~|]/g;
// A line that starts like a heading, quote, list item, thematic break or setext underline.
const BLOCK_START = /^(?:#{1,6}(?:\s|$)|>|[-+](?:\s|$)|\d{1,9}[.)](?:\s|$)|[=-]+$)/;

/** A value as inline Markdown text: one line, nothing in it read as markup. */
export function markdownText(value: string): string {
  const line = value.replace(/\s+/g, ' ').trim().replace(INLINE_MARKUP, (character) => `\\${character}`);
  return BLOCK_START.test(line) ? `\\${line}` : line;
}

/** A code span holding the value verbatim: fenced by more backticks than any run inside it. */
export function markdownCode(value: string): string {
  const line = value.replace(/[\r\n]+/g, ' ');
  const longest = Math.max(0, ...(line.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const padded = line.startsWith('`') || line.endsWith('`') || line.length === 0 ? ` ${line} ` : line;
  return `${fence}${padded}${fence}`;
}

const valueOf = (value: ReportValue) => ('code' in value ? markdownCode(value.code) : markdownText(value.text));
const fieldLine = (field: ReportField, indent = '') => `${indent}- **${markdownText(field.label)}:** ${valueOf(field.value)}`;
const citationList = (numbers: readonly number[]) => (numbers.length === 0 ? 'none' : numbers.map((number) => `\\[${number}\\]`).join(' '));

export function renderMarkdownReport(report: AuditReport): string {
  const lines: string[] = [`# ${markdownText(report.title)}`, ''];
  lines.push(...report.summary.map((field) => fieldLine(field)), '');

  lines.push('## Answer', '', `> ${markdownText(report.answer)}`, '');

  lines.push('## Evaluation', '');
  lines.push(...(report.evaluation.length > 0 ? report.evaluation.map((field) => fieldLine(field)) : ['_Not evaluated._']), '');

  lines.push('## Steps', '');
  if (report.steps.length === 0) lines.push('_No steps recorded._');
  report.steps.forEach((step, position) => {
    lines.push(`${position + 1}. ${markdownCode(step.at)} **${markdownText(step.title)}**`);
    lines.push(...step.fields.map((field) => fieldLine(field, '   ')));
  });
  lines.push('');

  lines.push('## Sources', '');
  if (report.sources.length === 0) lines.push('_No sources cited._');
  for (const source of report.sources) {
    lines.push(`- **\\[${source.index}\\] ${markdownText(source.filename)}** (score ${markdownText(source.score)}, document ${markdownCode(source.documentId)})`);
    lines.push(`  > ${markdownText(source.snippet)}`);
  }
  lines.push('');

  lines.push('## Sentence support', '');
  if (report.sentences.length === 0) lines.push('_The answer has no sentences._');
  report.sentences.forEach((sentence, position) => {
    lines.push(`${position + 1}. ${markdownText(sentence.text)}`);
    const support = sentence.support ? `supported by \\[${sentence.support.index}\\] ${markdownText(sentence.support.filename)}` : `**⚠ ${NO_SUPPORT}**`;
    lines.push(`   - cites ${citationList(sentence.cited)}; ${support}`);
  });
  lines.push('');
  return lines.join('\n');
}
