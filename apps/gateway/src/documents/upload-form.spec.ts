import { ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import { maxRequestBytes, multipartBoundary, parseFilename, parseFolder, parseTags, uploadLimits } from './upload-form';

function invalid(run: () => unknown): DomainError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe(ErrorCode.InvalidPayload);
    return error as DomainError;
  }
  throw new Error('expected an INVALID_PAYLOAD error');
}

describe('parseTags', () => {
  it('has no tags when none are sent', () => {
    expect(parseTags([])).toEqual([]);
    expect(parseTags([''])).toEqual([]);
    expect(parseTags([' , ,, '])).toEqual([]);
  });

  it('reads a comma-separated list, trimming each tag', () => {
    expect(parseTags(['hr, policy ,  2024'])).toEqual(['hr', 'policy', '2024']);
  });

  it('reads repeated fields', () => {
    expect(parseTags(['hr', 'policy'])).toEqual(['hr', 'policy']);
  });

  it('reads a JSON array, numbers included', () => {
    expect(parseTags(['["hr", " policy ", 2024]'])).toEqual(['hr', 'policy', '2024']);
    expect(parseTags(['[]'])).toEqual([]);
  });

  it('mixes the forms and drops duplicates, keeping the first order', () => {
    expect(parseTags(['hr,policy', '["policy","legal"]', 'hr'])).toEqual(['hr', 'policy', 'legal']);
  });

  it('keeps case and inner spaces', () => {
    expect(parseTags(['Team A,team a'])).toEqual(['Team A', 'team a']);
  });

  it('refuses a tag with a comma inside a JSON array', () => {
    expect(invalid(() => parseTags(['["a,b"]'])).message).toBe('tags: a tag may not contain ","');
  });

  it('refuses a tag longer than 64 characters and more than 32 tags', () => {
    expect(parseTags(['x'.repeat(64)])).toEqual(['x'.repeat(64)]);
    expect(invalid(() => parseTags(['x'.repeat(65)])).message).toMatch(/^tags: /);
    const many = Array.from({ length: 33 }, (_, i) => `t${i}`).join(',');
    expect(invalid(() => parseTags([many])).message).toMatch(/^tags: /);
    expect(parseTags([Array.from({ length: 32 }, (_, i) => `t${i}`).join(',')])).toHaveLength(32);
  });

  it('refuses NUL, lone surrogates and control characters in a tag, in any form', () => {
    expect(invalid(() => parseTags(['hr,po\u0000licy'])).message).toBe('tags: must not contain NUL characters (U+0000)');
    expect(invalid(() => parseTags(['["a\\u0000b"]'])).message).toBe('tags: must not contain NUL characters (U+0000)');
    expect(invalid(() => parseTags(['x\ud800'])).message).toBe('tags: must be valid Unicode text (it holds a lone UTF-16 surrogate)');
    expect(invalid(() => parseTags(['bell\u0007'])).message).toBe('tags: must not contain control characters (found U+0007)');
    expect(parseTags(['größe,😀'])).toEqual(['größe', '😀']);
  });

  it('refuses a value that starts like a JSON array but is not one, instead of failing with a 500', () => {
    expect(invalid(() => parseTags(['[oops'])).message).toBe('tags: a value starting with "[" must be a JSON array of strings');
    expect(invalid(() => parseTags(['[draft], final'])).code).toBe(ErrorCode.InvalidPayload);
    expect(invalid(() => parseTags(['[{"name":"hr"}]'])).code).toBe(ErrorCode.InvalidPayload);
    expect(invalid(() => parseTags(['[null]'])).code).toBe(ErrorCode.InvalidPayload);
  });
});

describe('parseFolder', () => {
  it.each([
    ['', '/'],
    ['/', '/'],
    ['   ', '/'],
    ['company', '/company'],
    ['/company/hr', '/company/hr'],
    ['company/hr/', '/company/hr'],
    ['//company///hr//', '/company/hr'],
    ['  /Company Docs/2024 ', '/Company Docs/2024'],
  ])('normalises %j to %j', (value, folder) => {
    expect(parseFolder(value)).toBe(folder);
  });

  it('refuses NUL and control characters in a folder', () => {
    expect(invalid(() => parseFolder('/hr/\u0000')).message).toBe('folder: must not contain NUL characters (U+0000)');
    expect(invalid(() => parseFolder('/hr\u001b')).message).toBe('folder: must not contain control characters (found U+001B)');
  });

  it('refuses a folder longer than 512 characters', () => {
    expect(parseFolder(`/${'a'.repeat(511)}`)).toHaveLength(512);
    expect(invalid(() => parseFolder(`/${'a'.repeat(512)}`)).message).toMatch(/^folder: /);
  });
});

describe('parseFilename', () => {
  it('keeps the client\'s name, "upload" when there is none', () => {
    expect(parseFilename('Ärger 😀.md')).toBe('Ärger 😀.md');
    expect(parseFilename('')).toBe('upload');
    expect(parseFilename(undefined)).toBe('upload');
  });

  it.each([
    ['a\u0000b.txt', 'filename: must not contain NUL characters (U+0000)'],
    ['a\udc00.txt', 'filename: must be valid Unicode text (it holds a lone UTF-16 surrogate)'],
    ['a\u001f.txt', 'filename: must not contain control characters (found U+001F)'],
  ])('refuses %j', (filename, message) => {
    expect(invalid(() => parseFilename(filename)).message).toBe(message);
  });
});

describe('multipartBoundary', () => {
  it('reads the boundary, quoted or not, among other parameters', () => {
    expect(multipartBoundary('multipart/form-data; boundary=----abc123')).toBe('----abc123');
    expect(multipartBoundary('Multipart/Form-Data; charset=utf-8; boundary="a b:c"')).toBe('a b:c');
  });

  it.each([
    [undefined, 'expected a multipart/form-data body with a "file" part'],
    ['application/json', 'expected a multipart/form-data body with a "file" part'],
    ['multipart/mixed; boundary=x', 'expected a multipart/form-data body with a "file" part'],
    ['multipart/form-data', 'the multipart/form-data content type has no (valid) boundary parameter'],
    ['multipart/form-data; boundary=', 'the multipart/form-data content type has no (valid) boundary parameter'],
    [`multipart/form-data; boundary=${'x'.repeat(71)}`, 'the multipart/form-data content type has no (valid) boundary parameter'],
  ])('refuses %j', (contentType, message) => {
    expect(invalid(() => multipartBoundary(contentType)).message).toBe(message);
  });
});

describe('upload limits', () => {
  const limits = uploadLimits({ MAX_UPLOAD_BYTES: 1000, MAX_BATCH_FILES: 10, MAX_BATCH_BYTES: 5000 });

  it('allow the form framing on top of the file limits, and no more', () => {
    expect(maxRequestBytes(limits.single)).toBe(1000 + 64 * 1024 + 1024);
    expect(maxRequestBytes(limits.batch)).toBe(5000 + 64 * 1024 + 10 * 1024);
  });
});
