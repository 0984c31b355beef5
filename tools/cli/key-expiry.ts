const UNIT_MS = { h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/**
 * A key's expiry from the CLI's options: `--expires-in 30d` (hours, days or weeks from now) or
 * `--expires 2027-01-31T00:00:00Z`; null when neither is given (the key does not expire). A time
 * in the past, an unreadable one, or both options at once is an error.
 */
export function parseExpiry(options: { at?: string; in?: string }, now = Date.now()): Date | null {
  if (options.at !== undefined && options.in !== undefined) throw new Error('give --expires or --expires-in, not both');
  let expiresAt: Date | null = null;
  if (options.in !== undefined) {
    const match = /^(\d{1,5})([hdw])$/.exec(options.in.trim());
    if (!match) throw new Error('--expires-in must be a number of hours, days or weeks, e.g. 12h, 30d, 8w');
    expiresAt = new Date(now + Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]);
  } else if (options.at !== undefined) {
    expiresAt = new Date(options.at);
    if (Number.isNaN(expiresAt.getTime())) throw new Error(`--expires: "${options.at}" is not a date (use ISO 8601, e.g. 2027-01-31T00:00:00Z)`);
  }
  if (expiresAt && expiresAt.getTime() <= now) throw new Error('the expiry must be in the future');
  return expiresAt;
}
