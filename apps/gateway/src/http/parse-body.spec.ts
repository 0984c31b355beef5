import { ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import { z } from 'zod';
import { parseBody } from './parse-body';

describe('parseBody', () => {
  const Schema = z.object({ question: z.string().min(1), topK: z.number().int().optional(), filters: z.object({ folder: z.string() }).optional() });

  it('returns the parsed value', () => {
    expect(parseBody(Schema, { question: 'why?', topK: 3 })).toEqual({ question: 'why?', topK: 3 });
  });

  it('names every bad field in one INVALID_PAYLOAD error', () => {
    let error: unknown;
    try {
      parseBody(Schema, { question: '', topK: 1.5, filters: { folder: 7 } });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe(ErrorCode.InvalidPayload);
    const message = (error as DomainError).message;
    expect(message).toMatch(/^question: /);
    expect(message).toContain('; topK: ');
    expect(message).toContain('; filters.folder: ');
  });

  it('treats a missing body as an empty object', () => {
    expect(() => parseBody(Schema, undefined)).toThrow(/^question: /);
    expect(parseBody(z.object({ limit: z.number().default(5) }), null)).toEqual({ limit: 5 });
  });
});
