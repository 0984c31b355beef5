/** One HTTP exchange as a client saw it. */
export interface ClientExchange {
  method: string;
  path: string;
  status: number | 'network-error';
  body: string;
  ms: number;
}

/** What a client must never see, whatever broke: driver and library text, stack traces, hosts. */
const LEAKS = [
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE/,
  /Stream isn't writeable|enableOfflineQueue|MaxRetriesPerRequest|ioredis/i,
  /Connection terminated|QueryFailedError|the database system is|terminating connection/i,
  /\bat \S+ \(.*:\d+:\d+\)/, // a stack frame
  /127\.0\.0\.1:\d+/,
];

const ERROR_SHAPE_KEYS = ['code', 'message', 'correlationId'];

/**
 * Every response the fault workloads received, judged by the suite's rule: a client may see 2xx,
 * a 4xx for its own mistake, or a 503 with Retry-After while something is down — always in the
 * documented error shape and never with internal text. Anything else is a bad response.
 */
export class ClientLog {
  readonly counts = { served: 0, refused: 0, unavailable: 0, bad: 0 };
  readonly badSamples: ClientExchange[] = [];
  /** The slowest 503: how long a request in flight took to fail while something was down. */
  slowestUnavailableMs = 0;

  record(exchange: ClientExchange, retryAfter?: string | null): void {
    const verdict = this.judge(exchange, retryAfter);
    this.counts[verdict]++;
    if (verdict === 'unavailable') this.slowestUnavailableMs = Math.max(this.slowestUnavailableMs, exchange.ms);
    if (verdict === 'bad' && this.badSamples.length < 20) this.badSamples.push(exchange);
  }

  /** Sends a request and records what came back; resolves with the status and parsed body. */
  async send(baseUrl: string, method: string, path: string, init: RequestInit = {}): Promise<{ status: number | 'network-error'; json: unknown }> {
    const started = performance.now();
    try {
      const response = await fetch(`${baseUrl}${path}`, { ...init, method, signal: AbortSignal.timeout(60_000) });
      const body = await response.text();
      this.record({ method, path, status: response.status, body, ms: performance.now() - started }, response.headers.get('retry-after'));
      return { status: response.status, json: body ? safeJson(body) : undefined };
    } catch (error) {
      this.record({ method, path, status: 'network-error', body: (error as Error).message, ms: performance.now() - started });
      return { status: 'network-error', json: undefined };
    }
  }

  describeBad(): string {
    return this.badSamples.map((sample) => `${sample.method} ${sample.path} → ${sample.status} ${sample.body.slice(0, 300)}`).join('\n');
  }

  private judge(exchange: ClientExchange, retryAfter?: string | null): keyof ClientLog['counts'] {
    const { status, body } = exchange;
    if (status === 'network-error') return 'bad';
    if (status >= 200 && status < 300) return 'served';
    if (LEAKS.some((pattern) => pattern.test(body))) return 'bad';
    const parsed = safeJson(body) as { error?: Record<string, unknown> } | undefined;
    const shaped = parsed?.error !== undefined && ERROR_SHAPE_KEYS.every((key) => typeof parsed.error?.[key] === 'string');
    if (!shaped) return 'bad';
    if (status === 503) return retryAfter ? 'unavailable' : 'bad';
    if (status >= 400 && status < 500) return 'refused';
    return 'bad';
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
