import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';
import { waitFor } from './wait-for';

export interface PrometheusSample {
  labels: Record<string, string>;
  value: number;
}

/**
 * Debian's real Prometheus (the `prometheus` package; `npm test` installs it when missing) on a
 * spare port with a throw-away TSDB, scraping the given targets under the scrape job `quarry`, as
 * deploy/prometheus/prometheus.yml does.
 */
export class PrivatePrometheus {
  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
    private readonly dir: string,
    private readonly output: string[],
  ) {}

  static async start(targets: string[], options: { scrapeIntervalSeconds?: number } = {}): Promise<PrivatePrometheus> {
    const interval = `${options.scrapeIntervalSeconds ?? 1}s`;
    const dir = await mkdtemp(join(tmpdir(), 'quarry-prometheus-'));
    const config = [
      'global:',
      `  scrape_interval: ${interval}`,
      `  scrape_timeout: ${interval}`,
      `  evaluation_interval: ${interval}`,
      'scrape_configs:',
      '  - job_name: quarry',
      '    static_configs:',
      `      - targets: [${targets.map((target) => `"${target}"`).join(', ')}]`,
      '',
    ].join('\n');
    await writeFile(join(dir, 'prometheus.yml'), config);
    const port = await freePort();
    const child = spawn(
      'prometheus',
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const output: string[] = [];
    const collect = (chunk: Buffer) => output.push(...chunk.toString().split('\n').filter(Boolean));
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const prometheus = new PrivatePrometheus(`http://127.0.0.1:${port}`, child, dir, output);
    await waitFor(async () => (await fetch(`${prometheus.url}/-/ready`)).ok, { timeoutMs: 30_000, description: `Prometheus to be ready (${output.slice(-5).join(' | ')})` });
    return prometheus;
  }

  /** An instant query; fails on a PromQL error. */
  async query(expr: string): Promise<PrometheusSample[]> {
    const response = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await response.json()) as { status: string; error?: string; data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
    if (body.status !== 'success' || !body.data) throw new Error(`PromQL ${expr}: ${body.error ?? response.status}`);
    if (body.data.resultType === 'scalar') {
      const [, value] = body.data.result as unknown as [number, string];
      return [{ labels: {}, value: Number(value) }];
    }
    return body.data.result.map((sample) => ({ labels: sample.metric, value: Number(sample.value[1]) }));
  }

  /** The single value of an aggregated query, or undefined when it has no data. */
  async value(expr: string): Promise<number | undefined> {
    const [sample] = await this.query(expr);
    return sample?.value;
  }

  /** Each target's health, last error and scrape duration: what to look at when a query has no data. */
  async targets(): Promise<string> {
    const body = (await (await fetch(`${this.url}/api/v1/targets`)).json()) as {
      data: { activeTargets: Array<{ scrapeUrl: string; health: string; lastError: string; lastScrapeDuration: number }> };
    };
    return body.data.activeTargets.map((target) => `${target.scrapeUrl} ${target.health} ${Math.round(target.lastScrapeDuration * 1000)} ms ${target.lastError}`).join('\n');
  }

  logs(): string {
    return this.output.slice(-30).join('\n');
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
    await rm(this.dir, { recursive: true, force: true });
  }
}
