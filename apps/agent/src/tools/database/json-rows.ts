import { type CustomTypesConfig, types } from 'pg';

/*
 * How the database tool turns Postgres values into JSON a model and the trace can read: counts and
 * sums come back as numbers (int8 and numeric are strings in node-pg, so a count would read "3"),
 * timestamps with a zone as ISO strings, and values without a zone (date, timestamp, interval, time)
 * as Postgres writes them — node-pg would turn a date into a local-midnight Date, shifting it by the
 * process's time zone.
 */
const INT8 = 20;
const NUMERIC = 1700;
const TEXT_AS_WRITTEN = new Set([1082 /* date */, 1083 /* time */, 1114 /* timestamp */, 1186 /* interval */, 1266 /* timetz */]);

const toNumber = (text: string): number | string => {
  const value = Number(text);
  // A value a double cannot hold exactly (a huge int8, NaN, many-digit numeric) stays as written.
  return Number.isFinite(value) && (!/^-?\d+$/.test(text) || Number.isSafeInteger(value)) ? value : text;
};

export const JSON_FRIENDLY_TYPES: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8 || oid === NUMERIC) return toNumber;
    if (TEXT_AS_WRITTEN.has(oid)) return (text: string) => text;
    return types.getTypeParser(oid, format ?? 'text') as (text: string) => unknown;
  }) as CustomTypesConfig['getTypeParser'],
};

/** Any parsed value made JSON-safe (Dates as ISO strings, bytes as base64, bigints as numbers or strings). */
export function jsonSafe(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, jsonSafe(item)]));
  return value;
}

/** Column names made unique (a SELECT may name two columns alike: `count`, `count_2`), in order. */
export function uniqueColumnNames(names: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((name) => {
    const count = (seen.get(name) ?? 0) + 1;
    seen.set(name, count);
    let unique = count === 1 ? name : `${name}_${count}`;
    while (count > 1 && names.includes(unique)) unique = `${unique}_`;
    return unique;
  });
}
