import { createHash } from 'node:crypto';
import { type AuditReport, NO_SUPPORT, type ReportField, type ReportValue } from './report-model';

// HTML of an audit report. Every value is escaped (document text and model output are untrusted),
// the page has no script and loads nothing, and its one stylesheet is inline and allowed by its
// hash alone (REPORT_CONTENT_SECURITY_POLICY), so even markup that slipped through could neither
// run a script nor load or send anything.

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made safe for an HTML text node or a quoted attribute value. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => ESCAPES[character]);
}

const STYLE = [
  'body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1f2328}',
  'h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d0d7de}',
  'dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}dd{margin:0}',
  'blockquote{margin:.4rem 0;padding:.2rem .8rem;border-left:3px solid #d0d7de;color:#424a53}',
  'code{font:13px ui-monospace,monospace;background:#f6f8fa;padding:.1rem .3rem;word-break:break-all}',
  '.at{color:#59636e;font-family:ui-monospace,monospace}.unsupported{color:#b3261e;font-weight:600}.supported{color:#1a7f37}',
].join('');

/**
 * The policy the report is served with: nothing may load or run, but its own stylesheet, which is
 * named by hash (an injected <style> would not match it).
 */
export const REPORT_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  "img-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const valueOf = (value: ReportValue) => ('code' in value ? `<code>${escapeHtml(value.code)}</code>` : escapeHtml(value.text));
const fieldList = (fields: readonly ReportField[]) =>
  `<dl>${fields.map((field) => `<dt>${escapeHtml(field.label)}</dt><dd>${valueOf(field.value)}</dd>`).join('')}</dl>`;
const citationList = (numbers: readonly number[]) => (numbers.length === 0 ? 'none' : numbers.map((number) => `[${number}]`).join(' '));

export function renderHtmlReport(report: AuditReport): string {
  const parts: string[] = [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(report.title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head><body>',
    `<h1>${escapeHtml(report.title)}</h1>`,
    fieldList(report.summary),
    '<h2>Answer</h2>',
    `<blockquote>${escapeHtml(report.answer)}</blockquote>`,
    '<h2>Evaluation</h2>',
    report.evaluation.length > 0 ? fieldList(report.evaluation) : '<p><em>Not evaluated.</em></p>',
    '<h2>Steps</h2>',
  ];
  if (report.steps.length === 0) parts.push('<p><em>No steps recorded.</em></p>');
  else {
    parts.push('<ol>');
    for (const step of report.steps) {
      parts.push(`<li><span class="at">${escapeHtml(step.at)}</span> <strong>${escapeHtml(step.title)}</strong>${step.fields.length > 0 ? fieldList(step.fields) : ''}</li>`);
    }
    parts.push('</ol>');
  }

  parts.push('<h2>Sources</h2>');
  if (report.sources.length === 0) parts.push('<p><em>No sources cited.</em></p>');
  else {
    parts.push('<ul>');
    for (const source of report.sources) {
      parts.push(
        `<li><strong>[${source.index}] ${escapeHtml(source.filename)}</strong> (score ${escapeHtml(source.score)}, document <code>${escapeHtml(source.documentId)}</code>)` +
          `<blockquote>${escapeHtml(source.snippet)}</blockquote></li>`,
      );
    }
    parts.push('</ul>');
  }

  parts.push('<h2>Sentence support</h2>');
  if (report.sentences.length === 0) parts.push('<p><em>The answer has no sentences.</em></p>');
  else {
    parts.push('<ol>');
    for (const sentence of report.sentences) {
      const support = sentence.support
        ? `<span class="supported">supported by [${sentence.support.index}] ${escapeHtml(sentence.support.filename)}</span>`
        : `<span class="unsupported">⚠ ${NO_SUPPORT}</span>`;
      parts.push(`<li>${escapeHtml(sentence.text)}<br>cites ${citationList(sentence.cited)}; ${support}</li>`);
    }
    parts.push('</ol>');
  }
  parts.push('</body></html>', '');
  return parts.join('\n');
}
