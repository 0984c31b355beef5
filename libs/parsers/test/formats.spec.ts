// HTML, Markdown and plain text: structure, heading paths and encodings.
import * as iconv from 'iconv-lite';
import { parseDocument, shutdownParsers } from '../src';
import { buildDocxBody, buildZip, failureOf, stylesPart } from './helpers';

afterAll(() => shutdownParsers());

describe('HTML', () => {
  const page = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Travel policy</title>
<style>body { color: red }</style><script>var secret = "do not index";</script></head>
<body>
<nav><a href="/">Home</a> | <a href="/about">About</a></nav>
<header><h1>Travel &amp; expenses</h1></header>
<main>
<p>Book trains   when
possible.<br>Flights need approval.</p>
<h2>Allowances</h2>
<ul><li>Meals: 40 €</li><li>Hotel: 150 €<ul><li>capital cities: 200 €</li></ul></li></ul>
<ol start="3"><li>third</li><li><p>fourth</p></li></ol>
<table><tr><th>Country</th><th>Rate</th></tr><tr><td>France</td><td><p>1.2</p></td></tr></table>
<h3>Receipts</h3>
<p>Keep every receipt.</p>
<h2>Approval</h2>
<div>Your manager approves.<span hidden>hidden text</span></div>
<pre>  code   stays
    as is</pre>
</main>
<aside>Related articles</aside>
<footer>© Example Corp</footer>
</body></html>`;

  it('keeps headings, paragraphs, lists and tables, and drops the boilerplate', async () => {
    const document = await parseDocument(Buffer.from(page), { filename: 'policy.html' });
    expect(document.format).toBe('html');
    expect(document.metadata).toEqual({ title: 'Travel policy', encoding: 'utf-8' });
    expect(document.sections).toEqual([
      {
        text: 'Travel & expenses\n\nBook trains when possible.\nFlights need approval.',
        headingPath: ['Travel & expenses'],
      },
      {
        text:
          'Allowances\n\n• Meals: 40 €\n• Hotel: 150 €\n  • capital cities: 200 €\n\n3. third\n4. fourth\n\n' +
          'Country\tRate\nFrance\t1.2',
        headingPath: ['Travel & expenses', 'Allowances'],
      },
      { text: 'Receipts\n\nKeep every receipt.', headingPath: ['Travel & expenses', 'Allowances', 'Receipts'] },
      { text: 'Approval\n\nYour manager approves.\n\n  code   stays\n    as is', headingPath: ['Travel & expenses', 'Approval'] },
    ]);
    const all = document.sections.map((section) => section.text).join(' ');
    for (const dropped of ['secret', 'color', 'Home', 'Related articles', 'Example Corp', 'hidden text']) {
      expect(all).not.toContain(dropped);
    }
  });

  it('decodes by the declared charset', async () => {
    const html = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252"></head><body><p>Prix: 12 €, café</p></body></html>';
    const document = await parseDocument(iconv.encode(html, 'windows-1252'));
    expect(document.format).toBe('html');
    expect(document.metadata.encoding).toBe('windows-1252');
    expect(document.sections).toEqual([{ text: 'Prix: 12 €, café' }]);
  });

  it('fails with EMPTY_DOCUMENT when only boilerplate is left', async () => {
    const failure = await failureOf(parseDocument(Buffer.from('<html><body><nav>Menu</nav><script>x()</script></body></html>')));
    expect(failure.code).toBe('EMPTY_DOCUMENT');
  });
});

describe('DOCX headings', () => {
  const paragraph = (text: string, style?: string) =>
    `<w:p>${style ? `<w:pPr><w:pStyle w:val="${style}"/></w:pPr>` : ''}<w:r><w:t xml:space="preserve">${text}</w:t></w:r></w:p>`;

  it('gives each heading section its heading path (Title above Heading 1)', async () => {
    const docx = buildDocxBody(
      [
        paragraph('Handbook', 'Title'),
        paragraph('Welcome.'),
        paragraph('Leave', 'Heading1'),
        paragraph('Ask first.'),
        paragraph('Sick leave', 'Heading2'),
        paragraph('Call in before 9.'),
        paragraph('Travel', 'Heading1'),
        paragraph('Book early.'),
      ].join(''),
      [stylesPart({ Title: 'Title', Heading1: 'heading 1', Heading2: 'heading 2' })],
    );
    const document = await parseDocument(docx);
    expect(document.metadata).toEqual({ title: 'Handbook' });
    expect(document.sections).toEqual([
      { text: 'Handbook\n\nWelcome.', headingPath: ['Handbook'] },
      { text: 'Leave\n\nAsk first.', headingPath: ['Handbook', 'Leave'] },
      { text: 'Sick leave\n\nCall in before 9.', headingPath: ['Handbook', 'Leave', 'Sick leave'] },
      { text: 'Travel\n\nBook early.', headingPath: ['Handbook', 'Travel'] },
    ]);
  });

  it('fails with EMPTY_DOCUMENT for a DOCX without text or images', async () => {
    expect((await failureOf(parseDocument(buildDocxBody('<w:p/>')))).code).toBe('EMPTY_DOCUMENT');
  });
});

describe('Markdown', () => {
  const markdown = [
    '---',
    'title: Handbook',
    '---',
    'Intro paragraph with a [link](https://example.com) and **bold** text.',
    '',
    '# Vacation',
    '',
    'Employees receive *27 days* of paid vacation.',
    '',
    '## Carry-over',
    '',
    '- up to 5 days',
    '- until `March 31`',
    '',
    '```',
    '# not a heading',
    '```',
    '',
    'Sick leave',
    '----------',
    '',
    '| Type | Days |',
    '|------|-----:|',
    '| Sick | 10 |',
    '',
    '# Travel',
    'Book early.',
  ].join('\n');

  it('splits by headings and keeps the heading path', async () => {
    const document = await parseDocument(Buffer.from(markdown), { filename: 'handbook.md' });
    expect(document.format).toBe('markdown');
    expect(document.mediaType).toBe('text/markdown');
    expect(document.metadata).toEqual({ title: 'Handbook', encoding: 'utf-8' });
    expect(document.sections).toEqual([
      { text: 'Intro paragraph with a link and bold text.' },
      { text: 'Vacation\n\nEmployees receive 27 days of paid vacation.', headingPath: ['Vacation'] },
      { text: 'Carry-over\n\n- up to 5 days\n- until March 31\n\n# not a heading', headingPath: ['Vacation', 'Carry-over'] },
      { text: 'Sick leave\n\nType\tDays\nSick\t10', headingPath: ['Vacation', 'Sick leave'] },
      { text: 'Travel\n\nBook early.', headingPath: ['Travel'] },
    ]);
  });

  it('is recognised without an extension by its structure', async () => {
    const document = await parseDocument(Buffer.from(markdown));
    expect(document.format).toBe('markdown');
  });
});

describe('plain text', () => {
  it('decodes Latin-1 (as windows-1252)', async () => {
    const document = await parseDocument(iconv.encode('Großhandel für Bürobedarf, Straße 5 — naïve café', 'windows-1252'), { filename: 'a.txt' });
    expect(document.format).toBe('text');
    expect(document.metadata.encoding).toBe('windows-1252');
    expect(document.sections).toEqual([{ text: 'Großhandel für Bürobedarf, Straße 5 — naïve café' }]);
  });

  it('decodes UTF-16 with a BOM, and without one', async () => {
    const text = 'Ünïcödé text\r\nsecond line — 日本語';
    const le = await parseDocument(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    expect(le.metadata.encoding).toBe('utf-16le');
    expect(le.sections).toEqual([{ text: 'Ünïcödé text\nsecond line — 日本語' }]);
    const be = await parseDocument(iconv.encode('\ufeffBig endian text', 'utf-16be'));
    expect(be.metadata.encoding).toBe('utf-16be');
    expect(be.sections).toEqual([{ text: 'Big endian text' }]);
    const bomless = await parseDocument(Buffer.from('No byte order mark here, just UTF-16LE.', 'utf16le'));
    expect(bomless.metadata.encoding).toBe('utf-16le');
    expect(bomless.sections[0].text).toBe('No byte order mark here, just UTF-16LE.');
  });

  it('drops a UTF-8 BOM', async () => {
    const document = await parseDocument(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('héllo')]));
    expect(document.sections).toEqual([{ text: 'héllo' }]);
    expect(document.metadata.encoding).toBe('utf-8');
  });

  it('fails with EMPTY_DOCUMENT for an empty or blank file', async () => {
    expect((await failureOf(parseDocument(Buffer.alloc(0), { filename: 'a.txt' }))).code).toBe('EMPTY_DOCUMENT');
    expect((await failureOf(parseDocument(Buffer.from(' \n\n\t '), { filename: 'a.txt' }))).code).toBe('EMPTY_DOCUMENT');
  });

  it('fails with UNSUPPORTED_TYPE for PNG bytes and for a zip that is not a DOCX', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    expect((await failureOf(parseDocument(png, { filename: 'scan.txt' }))).code).toBe('UNSUPPORTED_TYPE');
    const zip = buildZip([{ name: 'readme.txt', data: Buffer.from('not a word document') }]);
    const failure = await failureOf(parseDocument(zip, { filename: 'report.docx' }));
    expect(failure).toEqual({ code: 'UNSUPPORTED_TYPE', message: expect.stringMatching(/not a Word document/) as string });
  });
});
