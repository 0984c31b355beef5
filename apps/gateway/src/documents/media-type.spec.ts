import { ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import { resolveMediaType } from './media-type';

describe('resolveMediaType', () => {
  it.each([
    ['handbook.md', 'text/markdown'],
    ['README.MD', 'text/markdown'],
    ['notes.markdown', 'text/markdown'],
    ['notes.v2.final.md', 'text/markdown'],
    ['notes.txt', 'text/plain'],
    ['NOTES.TXT', 'text/plain'],
    ['letter.text', 'text/plain'],
    ['a folder/with spaces.txt', 'text/plain'],
  ])('reads %s as %s', (filename, mediaType) => {
    expect(resolveMediaType(filename)).toBe(mediaType);
  });

  it.each(['report.pdf', 'archive.md.zip', 'image.png', 'notes', 'md', 'txt', 'notes.', 'upload', 'evil.constructor', 'evil.__proto__', 'x.toString'])(
    'refuses %s as an unsupported type',
    (filename) => {
      let error: unknown;
      try {
        resolveMediaType(filename);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(DomainError);
      expect(error).toMatchObject({ code: ErrorCode.UnsupportedType, message: `"${filename}" is not a supported type; upload .txt or .md files` });
    },
  );
});
