import { ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import { decodeText } from './text-decoding';

describe('decodeText', () => {
  it('decodes UTF-8, multi-byte characters included', () => {
    const text = 'Grüße aus Zürich — 東京 😀\nnext line';
    expect(decodeText(Buffer.from(text, 'utf8'))).toBe(text);
  });

  it('drops a UTF-8 byte order mark', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('# Title\nbody', 'utf8')]);
    expect(decodeText(bytes)).toBe('# Title\nbody');
  });

  it('falls back to Latin-1 when the bytes are not valid UTF-8', () => {
    // "café crème" as ISO-8859-1: é and è are single bytes, invalid on their own in UTF-8.
    const bytes = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x63, 0x72, 0xe8, 0x6d, 0x65]);
    expect(decodeText(bytes)).toBe('café crème');
    expect(decodeText(Buffer.from([0x41, 0xff, 0x42]))).toBe('AÿB');
  });

  it('decodes an empty buffer to an empty string', () => {
    expect(decodeText(Buffer.alloc(0))).toBe('');
  });

  it('refuses binary content (NUL bytes) as an unsupported, permanent error', () => {
    const binary = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d]);
    const error = (() => {
      try {
        decodeText(binary);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: ErrorCode.UnsupportedType, message: 'the file contains binary data, not text', permanent: true });
    // UTF-16 text is full of NUL bytes too.
    expect(() => decodeText(Buffer.from('\ufeffhello', 'utf16le'))).toThrow(DomainError);
  });
});
