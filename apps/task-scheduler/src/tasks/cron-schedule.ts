import parser from 'cron-parser';

/** The first occurrence of the cron pattern (UTC) after `after`, or a readable reason the pattern is not one. */
export function nextOccurrence(pattern: string, after: Date): { at: Date } | { problem: string } {
  const fields = pattern.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) return { problem: `a cron pattern has 5 fields (or 6 with seconds); "${pattern}" has ${fields}` };
  try {
    const interval = parser.parseExpression(pattern, { currentDate: after, utc: true });
    return { at: interval.next().toDate() };
  } catch (error) {
    return { problem: `not a cron pattern: ${(error as Error).message}` };
  }
}
