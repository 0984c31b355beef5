import { Agent, request } from 'node:http';
import { percentile } from './stats';

/** One target of the closed-loop client: where to POST and what (a fresh body per request). */
export interface LoadTarget {
  url: string;
  headers: Record<string, string>;
  body: () => string;
}

export interface LoadFigures {
  requests: number;
  errors: number;
  requestsPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  /** CPU the bench process spent meanwhile, as a share of one core (the client must not be the bottleneck). */
  clientCpu: number;
}

/**
 * A closed-loop HTTP client: `concurrency` loops, each sending its next request as soon as the
 * previous answer is read, over keep-alive connections (node:http: no dependency, and cheaper for
 * the bench process than fetch). Runs for `seconds`; latencies in ms.
 */
export async function closedLoop(target: LoadTarget, concurrency: number, seconds: number): Promise<LoadFigures> {
  const url = new URL(target.url);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const deadline = performance.now() + seconds * 1000;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();

  const once = () =>
    new Promise<void>((resolve) => {
      const body = target.body();
      const begun = performance.now();
      const sent = request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...target.headers },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            if (response.statusCode === 200) latencies.push(performance.now() - begun);
            else {
              errors++;
              firstError ??= `${response.statusCode} ${Buffer.concat(chunks).toString().slice(0, 300)}`;
            }
            resolve();
          });
        },
      );
      sent.on('error', (error) => {
        errors++;
        firstError ??= error.message;
        resolve();
      });
      sent.end(body);
    });

  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) await once();
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  agent.destroy();
  if (errors > 0) console.log(`    ${errors} failed request(s), first: ${firstError}`);
  return {
    requests: latencies.length,
    errors,
    requestsPerSecond: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    clientCpu: (cpu.user + cpu.system) / 1e6 / elapsed,
  };
}

/** A closed loop over any async operation (the raw BullMQ floor), same figures as closedLoop. */
export async function closedLoopOf(operation: () => Promise<void>, concurrency: number, seconds: number): Promise<LoadFigures> {
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const begun = performance.now();
        try {
          await operation();
          latencies.push(performance.now() - begun);
        } catch {
          errors++;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    requests: latencies.length,
    errors,
    requestsPerSecond: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    clientCpu: (cpu.user + cpu.system) / 1e6 / elapsed,
  };
}
