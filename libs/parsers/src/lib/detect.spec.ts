import { isDomainError } from '@quarry/domain';
import * as iconv from 'iconv-lite';
import { buildDocx, buildZip } from '../../test/helpers';
import { detectFormat, looksLikeMarkdown } from './detect';

function detectionError(bytes: Buffer, filename?: string): { code: string; message: string } {
  try {
    detectFormat(bytes, filename);
  } catch (error) {
    if (isDomainError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected detectFormat to throw');
}

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

describe('detectFormat', () => {
  it('refuses an empty file and a file that is only a BOM', () => {
    expect(detectionError(Buffer.alloc(0)).code).toBe('EMPTY_DOCUMENT');
    expect(detectionError(Buffer.from([0xef, 0xbb, 0xbf])).code).toBe('EMPTY_DOCUMENT');
  });

  it('decides binary formats by content, not by name', () => {
    expect(detectFormat(Buffer.from('%PDF-1.7\n%âãÏÓ\n'), 'report.txt')).toEqual({ format: 'pdf', mediaType: 'application/pdf' });
    expect(detectFormat(buildDocx('Hello'), 'notes.md').format).toBe('docx');
    expect(detectionError(PNG, 'photo.txt')).toEqual({
      code: 'UNSUPPORTED_TYPE',
      message: 'unsupported document type: PNG image (supported: PDF, DOCX, HTML, Markdown, plain text)',
    });
  });

  it('finds a PDF header after leading junk only when the file also ends like a PDF', () => {
    const junkPdf = Buffer.from('\u0000\u0000garbage\n%PDF-1.4\n1 0 obj\n<<>>\nendobj\nstartxref\n9\n%%EOF\n', 'latin1');
    expect(detectFormat(junkPdf).format).toBe('pdf');
    expect(detectFormat(Buffer.from('Every PDF file starts with %PDF- and a version.\n')).format).toBe('text');
  });

  it('refuses binary data named .txt', () => {
    const binary = Buffer.from(Array.from({ length: 512 }, (_, index) => (index * 37) % 256));
    expect(detectionError(binary, 'notes.txt').code).toBe('UNSUPPORTED_TYPE');
    expect(detectionError(binary, 'notes.txt').message).toMatch(/binary data, not text/);
  });

  it('refuses a zip that is not a Word document, naming what it is', () => {
    const plain = buildZip([{ name: 'hello.txt', data: Buffer.from('hello') }]);
    expect(detectionError(plain, 'archive.docx')).toEqual({
      code: 'UNSUPPORTED_TYPE',
      message: expect.stringMatching(/a ZIP archive that is not a Word document/) as string,
    });
    const xlsx = buildZip([
      { name: '[Content_Types].xml', data: Buffer.from('<Types/>') },
      { name: 'xl/workbook.xml', data: Buffer.from('<workbook/>') },
    ]);
    expect(detectionError(xlsx).message).toMatch(/Excel workbook/);
  });

  it('still recognises a DOCX whose end (the zip directory) was cut off', () => {
    const docx = buildDocx('Hello');
    expect(detectFormat(docx.subarray(0, docx.length - 60)).format).toBe('docx');
  });

  it('reports a password-protected OOXML container as a protected DOCX', () => {
    const cfb = Buffer.alloc(1024);
    Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]).copy(cfb);
    const name = Buffer.from('EncryptedPackage\u0000', 'utf16le');
    name.copy(cfb, 512 + 128);
    cfb.writeUInt16LE(name.length, 512 + 128 + 64);
    expect(detectFormat(cfb)).toEqual({ format: 'docx', mediaType: 'application/x-tika-ooxml-protected' });
    // The same name not at a directory entry's place does not count.
    const other = Buffer.alloc(1024);
    Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]).copy(other);
    name.copy(other, 512 + 130);
    expect(detectionError(other).message).toMatch(/legacy Microsoft Office/);
  });

  it('tells HTML, Markdown and plain text apart by extension, else by structure', () => {
    expect(detectFormat(Buffer.from('# Title\n\nSome *text*.'), 'a.md').format).toBe('markdown');
    expect(detectFormat(Buffer.from('<p>Hello</p>'), 'a.txt').format).toBe('text');
    expect(detectFormat(Buffer.from('<!DOCTYPE html><html><body><p>Hi</p></body></html>')).format).toBe('html');
    expect(detectFormat(Buffer.from('# Title\n\n- one\n- two\n')).format).toBe('markdown');
    expect(detectFormat(Buffer.from('Dear team,\n\nthe meeting is at 10.\n')).format).toBe('text');
    expect(detectFormat(Buffer.from('Dear team,\n\nthe meeting is at 10.\n'), 'a.html')).toEqual({ format: 'html', mediaType: 'text/html' });
  });

  it('detects text in UTF-16 (with or without BOM) and in legacy encodings', () => {
    expect(detectFormat(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Grüße', 'utf16le')])).format).toBe('text');
    expect(detectFormat(Buffer.from('Plain words in UTF-16', 'utf16le')).format).toBe('text');
    expect(detectFormat(iconv.encode('Café crème, façade', 'latin1')).format).toBe('text');
  });
});

describe('looksLikeMarkdown', () => {
  it('needs more than one kind of structure', () => {
    expect(looksLikeMarkdown('# heading only\nplain text')).toBe(false);
    expect(looksLikeMarkdown('# Setup\n\nRun `npm ci`.')).toBe(true);
    expect(looksLikeMarkdown('Intro\n=====\n\n- a\n- b')).toBe(true);
    expect(looksLikeMarkdown('- a\n- b\n\nsee [docs](https://example.com) and **this**')).toBe(true);
    expect(looksLikeMarkdown('Shopping:\n- milk\n- bread')).toBe(false);
  });
});
