import { withinDeadline } from '@quarry/domain';
import { redactUrl } from '@quarry/config';

/** What a check found out beyond ok / not ok: a short text, or a few named figures. */
export type DeepCheckDetail = string | Record<string, string | number | boolean | null>;

export interface DeepCheckResult {
  ok: boolean;
  /** Why the check failed: one short line, URLs redacted, never a secret. */
  error?: string;
  detail?: DeepCheckDetail;
}

/**
 * One dependency check. Returning nothing means ok; throwing means failed (the error's message,
 * made safe, is the reason); a result says ok or not itself and may carry a detail.
 */
export type DeepCheck = () => Promise<DeepCheckResult | void> | DeepCheckResult | void;

export interface DeepHealthReport {
  healthy: boolean;
  checks: Record<string, DeepCheckResult>;
}

export interface DeepCheckOptions {
  /** A check that has not answered by then failed (default DEFAULT_CHECK_TIMEOUT_MS). */
  timeoutMs?: number;
}

export const DEFAULT_CHECK_TIMEOUT_MS = 3000;
const MAX_MESSAGE_LENGTH = 200;
const URL_PATTERN = /\b[a-z][a-z0-9+.-]*:\/\/[^\s'"<>()]+/gi;
const SECRET_PATTERNS: Array<[RegExp, string]> = [
  [/\b(bearer|basic)\s+[^\s,;]+/gi, '$1 ***'],
  [/\b(api[-_]?key|token|password|secret)(\s*[=:]\s*)[^\s,;&]+/gi, '$1$2***'],
];

/**
 * A failure as one short line that can be shown to anyone who can reach the endpoint: the first
 * line of the message, URLs without their passwords (redactUrl), bearer tokens and `key=value`
 * secrets masked, at most 200 characters.
 */
export function safeMessage(error: unknown): string {
  const { message, code } = (typeof error === 'object' && error !== null ? error : {}) as { message?: unknown; code?: unknown };
  const raw = typeof message === 'string' && message.trim() !== '' ? message : typeof code === 'string' ? code : String(error);
  let line = raw.split('\n')[0].trim() || 'failed';
  line = line.replace(URL_PATTERN, (url) => redactUrl(url));
  for (const [pattern, replacement] of SECRET_PATTERNS) line = line.replace(pattern, replacement);
  return line.length > MAX_MESSAGE_LENGTH ? `${line.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : line;
}

/**
 * The deep health of one service process: every dependency it needs to do its work, checked when
 * asked (GET /health/deep). The kit registers Postgres, Redis and Redis's eviction policy; each app
 * adds what it knows it depends on (queues it sends to and consumes, its index, its model
 * endpoints). Checks run in parallel, each bounded in time; one report is shared by everyone who
 * asks while it is being made.
 */
export class DeepHealth {
  private readonly checks = new Map<string, { check: DeepCheck; timeoutMs: number }>();
  private running: Promise<DeepHealthReport> | undefined;

  add(name: string, check: DeepCheck, options: DeepCheckOptions = {}): this {
    if (this.checks.has(name)) throw new Error(`deep health check "${name}" is registered twice`);
    this.checks.set(name, { check, timeoutMs: options.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS });
    return this;
  }

  /** The names of the registered checks, in the order they were added. */
  names(): string[] {
    return [...this.checks.keys()];
  }

  report(): Promise<DeepHealthReport> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(): Promise<DeepHealthReport> {
    const entries = await Promise.all([...this.checks].map(async ([name, { check, timeoutMs }]) => [name, await runCheck(check, timeoutMs)] as const));
    const checks = Object.fromEntries(entries);
    return { healthy: entries.every(([, result]) => result.ok), checks };
  }
}

async function runCheck(check: DeepCheck, timeoutMs: number): Promise<DeepCheckResult> {
  try {
    const result = await withinDeadline(Promise.resolve().then(check), timeoutMs);
    if (!result) return { ok: true };
    const safe: DeepCheckResult = { ok: result.ok };
    if (!result.ok) safe.error = safeMessage(result.error ?? 'failed');
    if (result.detail !== undefined) safe.detail = result.detail;
    return safe;
  } catch (error) {
    return { ok: false, error: safeMessage(error) };
  }
}
