import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode } from '@quarry/contracts';
import { repoRoot } from '@quarry/testing';
import { resolveMediaType } from './media-type';

const docs = join(repoRoot(), '..', 'shared', 'data', 'docs');
const fixture = (path: string) => readFileSync(join(docs, path));

describe('resolveMediaType (by content, not by name)', () => {
  it.each([
    ['handbook.md', Buffer.from('# Handbook\n\nText.'), 'text/markdown'],
    ['notes.txt', Buffer.from('Plain notes.'), 'text/plain'],
    ['page.html', Buffer.from('<!doctype html><html><body><p>Hi</p></body></html>'), 'text/html'],
    ['paper.pdf', fixture('pdfjs/basicapi.pdf'), 'application/pdf'],
    ['renamed.txt', fixture('pdfjs/basicapi.pdf'), 'application/pdf'],
    ['tables.docx', fixture('mammoth/tables.docx'), 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
  ])('reads %s as %s', (filename, bytes, mediaType) => {
    expect(resolveMediaType(bytes, filename)).toBe(mediaType);
  });

  it('refuses images and archives, whatever their name says', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
    expect(() => resolveMediaType(png, 'picture.txt')).toThrow(expect.objectContaining({ code: ErrorCode.UnsupportedType }) as Error);
    expect(() => resolveMediaType(Buffer.from([0x1f, 0x8b, 8, 0]), 'notes.md')).toThrow(/gzip/);
  });

  it('refuses an empty file', () => {
    expect(() => resolveMediaType(Buffer.alloc(0), 'empty.txt')).toThrow(expect.objectContaining({ code: ErrorCode.EmptyDocument }) as Error);
  });
});
