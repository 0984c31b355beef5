import { ErrorCode } from '@quarry/contracts';
import { DomainError } from './domain-error';

// Postgres SQLSTATE class 22 is "data exception": the value itself is wrong, so no retry can help.
const READABLE: Record<string, string> = {
  '22021': 'text holds a NUL character or bytes that are not valid UTF-8',
  '22P05': 'text holds a character the database cannot store',
  '22001': 'a value is longer than allowed',
  '22003': 'a number is out of range',
  '22P02': 'a value has the wrong format',
};

/**
 * A permanent INVALID_PAYLOAD for an error the database raised because of the data it was given
 * (SQLSTATE class 22), or undefined for any other error. The message says what was wrong with the
 * data in general terms, never the driver's text.
 */
export function unstorableDataError(error: unknown): DomainError | undefined {
  for (let current: unknown = error, depth = 0; current && typeof current === 'object' && depth < 4; depth++) {
    const { code, driverError, cause } = current as { code?: unknown; driverError?: unknown; cause?: unknown };
    if (typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code)) {
      return new DomainError(ErrorCode.InvalidPayload, `the input cannot be stored: ${READABLE[code] ?? 'a value is invalid'}`);
    }
    current = driverError ?? cause;
  }
  return undefined;
}
