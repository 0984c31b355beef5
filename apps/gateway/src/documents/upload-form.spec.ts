import { ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import { parseFolder, parseTags } from './upload-form';

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

  it('refuses a folder longer than 512 characters', () => {
    expect(parseFolder(`/${'a'.repeat(511)}`)).toHaveLength(512);
    expect(invalid(() => parseFolder(`/${'a'.repeat(512)}`)).message).toMatch(/^folder: /);
  });
});
