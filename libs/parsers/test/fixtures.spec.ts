// Every third-party fixture in shared/data/docs (see its MANIFEST.md): the expected text snippets
// (whitespace collapsed) or the expected typed failure.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument, parseWorkerCount, shutdownParsers, type ParsedDocument } from '../src';
import { allText, failureOf, FIXTURES, normalise } from './helpers';

interface Success {
  format: 'pdf' | 'docx';
  contains: string[];
  check?: (document: ParsedDocument) => void;
}
interface Failure {
  fails: string;
  message: RegExp;
}

const expectations: Record<string, Success | Failure> = {
  'pdfjs/tracemonkey.pdf': {
    format: 'pdf',
    // The authors carry affiliation marks: "Andreas Gal∗+, Brendan Eich∗, Mike Shaver∗".
    contains: ['Andreas Gal', 'Brendan Eich', 'Mike Shaver', 'Dynamic languages such as JavaScript'],
    check: (document) => {
      expect(document.metadata.pageCount).toBe(14);
      expect(document.sections).toHaveLength(14);
      expect(document.sections.map((section) => section.page)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
      expect(normalise(document.sections[0].text)).toMatch(/^Trace-based Just-in-Time Type Specialization for Dynamic Languages/);
      // The ﬁ/ﬂ ligature glyphs come out as letters.
      expect(allText(document)).not.toMatch(/[\ufb01\ufb02]/);
      expect(allText(document)).toContain('specialization');
    },
  },
  'pdfjs/basicapi.pdf': {
    format: 'pdf',
    contains: [],
    check: (document) => {
      expect(normalise(document.sections[0].text)).toBe(
        normalise(
          'Table Of Content\nChapter 1 .......................................................... 2\n' +
            'Paragraph 1.1 ...................................................... 3\npage 1 / 3',
        ),
      );
      expect(document.metadata).toEqual({ title: 'Basic API Test', author: 'Brendan Dahl', pageCount: 3 });
      expect(document.sections.map((section) => section.page)).toEqual([1, 2, 3]);
    },
  },
  'pdfjs/90ms_rksj_h_sample.pdf': {
    format: 'pdf',
    contains: ['Hello ASCII 日本語テスト'],
    check: (document) => expect(document.sections[0].text).toBe('Hello ASCII\n日本語テスト'),
  },
  'pdfjs/issue6010_1.pdf': { fails: 'PASSWORD_REQUIRED', message: /password required/ },
  'tika/testPDF_protected.pdf': {
    format: 'pdf',
    contains: ['RETHINKING THE FINANCIAL NETWORK', 'On 16 November 2002', 'In many important respects'],
    check: (document) => {
      expect(document.metadata.pageCount).toBe(41);
      expect(document.metadata.author).toBe('The Bank of England');
      expect(document.metadata.title).toMatch(/^Rethinking the Financial Network, Speech by Andrew G Haldane/);
      expect(document.sections.find((section) => section.text.includes('On 16 November 2002'))?.page).toBe(2);
    },
  },
  'pdfjs/xref_command_missing.pdf': {
    format: 'pdf',
    contains: ['Reduced test-case'],
    check: (document) => expect(document.sections).toEqual([{ text: 'Reduced test-case', page: 1 }]),
  },
  'pdfjs/bug1020226.pdf': { fails: 'CORRUPT_DOCUMENT', message: /corrupt PDF: Invalid PDF structure/ },
  'tika/testPDFTwoTextBoxes.pdf': {
    format: 'pdf',
    contains: ['Left column line 1 Left column line 2 Right column line 1 Right column line 2'],
  },
  'tika/testOCR.pdf': { fails: 'NO_EXTRACTABLE_TEXT', message: /^no extractable text — needs OCR$/ },
  'pdfjs/issue7200.pdf': { fails: 'NO_EXTRACTABLE_TEXT', message: /^no extractable text — needs OCR$/ },

  'mammoth/tables.docx': {
    format: 'docx',
    contains: ['Above Top left Top right Bottom left Bottom right Below'],
    check: (document) => expect(document.sections[0].text).toBe('Above\n\nTop left\tTop right\nBottom left\tBottom right\n\nBelow'),
  },
  'mammoth/simple-list.docx': {
    format: 'docx',
    contains: ['Apple', 'Banana'],
    check: (document) => expect(document.sections[0].text).toBe('• Apple\n• Banana'),
  },
  'mammoth/footnotes.docx': {
    format: 'docx',
    contains: ['Ouch[1].[2]', '[1] A tachyon walks into a bar.', '[2] Fin.'],
    check: (document) => {
      expect(document.sections.at(-1)).toEqual({ text: '[1] A tachyon walks into a bar.\n\n[2] Fin.', headingPath: ['Footnotes'] });
    },
  },
  'mammoth/tiny-picture.docx': { fails: 'NO_EXTRACTABLE_TEXT', message: /needs OCR/ },
  'mammoth/text-box.docx': { format: 'docx', contains: ['Datum plane'] },
  'tika/testWORD_various.docx': {
    format: 'docx',
    contains: [
      'Footnote appears here',
      'This is a footnote.',
      'This is the header text.',
      'This is the footer text.',
      'Here is a text box',
      'Here is a citation:',
      'Figure 1 This is a caption for Figure 1',
      '(Kramer)',
      'This is a hyperlink',
      'Row 1 Col 1 Row 1 Col 2 Row 1 Col 3 Row 2 Col 1 Row 2 Col 2 Row 2 Col 3',
      'Row 1 column 1 Row 2 column 1 Row 1 column 2 Row 2 column 2',
      'ゾルゲと尾崎、淡々と最期',
      '𐌲𐌿𐍄𐌹𐍃𐌺',
      '• Bullet 1 • Bullet 2',
      '1) Number bullet 1 2) Number bullet 2',
    ],
    check: (document) => {
      expect(document.sections[0]).toEqual({ text: 'This is the header text.', headingPath: ['Header'] });
      expect(document.sections.at(-1)).toEqual({ text: 'This is the footer text.', headingPath: ['Footer'] });
    },
  },
  'tika/testWORD_numbered_list.docx': {
    format: 'docx',
    contains: [
      'add a list here',
      '1) This',
      'a) Is',
      'i) A multi',
      'ii) Level',
      '1. Within cell 1',
      'b. Cell b',
      'iii) List',
      '2) foo',
      'ii) baz',
      'ii) foo',
      'II. bar',
      '6. six',
      '7. seven',
      'a. seven a',
      'e. seven e',
    ],
    check: (document) => {
      expect(document.sections.map((section) => section.headingPath?.[0])).toEqual([undefined, 'Footnotes', 'Comments']);
      expect(document.sections[2].text).toMatch(/^ISIS: Let’s add a list here\n1\. comment list 1\./);
    },
  },
  'tika/testWORD_protected_passtika.docx': { fails: 'PASSWORD_REQUIRED', message: /password required/ },
  'python-docx/par-hyperlinks.docx': {
    format: 'docx',
    contains: ['No hyperlinks', 'One awesome hyperlink.', 'Three hyperlinks: the first one here, the second one, and the third.'],
  },
  'python-docx/hdr-header-footer.docx': {
    format: 'docx',
    contains: ['section with header', 'section without header of its own.', 'Header for section-1', 'Footer for section 1'],
    check: (document) => {
      expect(document.sections).toEqual([
        { text: 'Header for section-1', headingPath: ['Header'] },
        { text: 'section with header\n\nsection without header of its own.' },
        { text: 'Footer for section 1', headingPath: ['Footer'] },
      ]);
    },
  },
};

function fixtureFiles(): string[] {
  return readdirSync(FIXTURES)
    .filter((folder) => statSync(join(FIXTURES, folder)).isDirectory())
    .flatMap((folder) => readdirSync(join(FIXTURES, folder)).map((file) => `${folder}/${file}`))
    .sort();
}

afterAll(() => shutdownParsers());

describe('shared document fixtures', () => {
  it('has an expectation for every file in the folder, and a file for every expectation', () => {
    expect(fixtureFiles()).toEqual(Object.keys(expectations).sort());
  });

  describe.each(Object.entries(expectations))('%s', (file, expected) => {
    // Named .txt on purpose for some: binary formats are detected by content, not by name.
    const bytes = () => readFileSync(join(FIXTURES, file));

    if ('fails' in expected) {
      it(`fails with ${expected.fails}`, async () => {
        const failure = await failureOf(parseDocument(bytes(), { filename: file }));
        expect(failure.code).toBe(expected.fails);
        expect(failure.message).toMatch(expected.message);
      });
    } else {
      it(`parses as ${expected.format} with the expected text`, async () => {
        const document = await parseDocument(bytes(), { filename: file });
        expect(document.format).toBe(expected.format);
        const text = allText(document);
        for (const snippet of expected.contains) expect(text).toContain(normalise(snippet));
        expected.check?.(document);
      });
    }
  });

  it('parses a PDF named .txt as a PDF', async () => {
    const document = await parseDocument(readFileSync(join(FIXTURES, 'pdfjs/xref_command_missing.pdf')), { filename: 'notes.txt' });
    expect(document.format).toBe('pdf');
    expect(document.mediaType).toBe('application/pdf');
  });

  it('leaves no worker behind after a failure in the worker, keeps it after a success', async () => {
    const read = (file: string) => readFileSync(join(FIXTURES, file));
    await shutdownParsers();
    expect(parseWorkerCount()).toBe(0);
    await failureOf(parseDocument(read('pdfjs/bug1020226.pdf')));
    expect(parseWorkerCount()).toBe(0);
    await failureOf(parseDocument(read('pdfjs/issue6010_1.pdf')));
    expect(parseWorkerCount()).toBe(0);
    // The worker read this one fine ("only an image, needs OCR" is decided here): it is kept.
    await failureOf(parseDocument(read('mammoth/tiny-picture.docx')));
    expect(parseWorkerCount()).toBe(1);
    await failureOf(parseDocument(read('pdfjs/bug1020226.pdf')));
    expect(parseWorkerCount()).toBe(0);
    await parseDocument(read('pdfjs/xref_command_missing.pdf'));
    await parseDocument(read('mammoth/tables.docx'));
    await parseDocument(read('pdfjs/basicapi.pdf'));
    expect(parseWorkerCount()).toBe(1); // one worker, reused
  });
});
