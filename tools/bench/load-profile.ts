/**
 * Summarises V8 CPU profiles (`node --cpu-prof`): the functions with the most self time and the
 * most inclusive time (a function counted once per sample however deep it recurses), and the
 * share of each package (node_modules/<name>, node: internals, the project's own code).
 *
 *   node dist/tools/bench/load-profile.js /tmp/prof-agent [top=15]
 *
 * Every .cpuprofile in the folder is read (one per process); figures are shares of all samples.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  self: Array<[string, number]>;
  inclusive: Array<[string, number]>;
  packages: Array<[string, number]>;
}

const IDLE = new Set(['(idle)', '(program)', '(garbage collector)']);

function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inModules) return inModules[1];
  if (url.startsWith('node:')) return 'node:internals';
  const own = /\/dist\/((?:apps|libs|tools)\/[^/]+)/.exec(url);
  return own ? own[1] : url;
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^.*node_modules\//, '').replace(/^.*\/dist\//, '').replace(/^file:\/\//, '');
  return `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
}

/** Only samples taken within the window (µs of the monotonic clock), when one is given. */
export interface SampleWindow {
  fromUs: number;
  toUs: number;
}

export function summarise(profiles: CpuProfile[], window?: SampleWindow): ProfileSummary {
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const packages = new Map<string, number>();
  let totalMs = 0;
  for (const profile of profiles) {
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const parent = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
    let at = profile.startTime;
    profile.samples.forEach((id, position) => {
      const delta = profile.timeDeltas[position] ?? 0;
      at += delta;
      if (window && (at < window.fromUs || at > window.toUs)) return;
      const ms = delta / 1000;
      const node = byId.get(id);
      if (!node) return;
      totalMs += ms;
      const own = label(node);
      self.set(own, (self.get(own) ?? 0) + ms);
      const pkg = IDLE.has(node.callFrame.functionName) ? node.callFrame.functionName : packageOf(node.callFrame.url, node.callFrame.functionName);
      packages.set(pkg, (packages.get(pkg) ?? 0) + ms);
      const seen = new Set<string>();
      for (let frameId: number | undefined = id; frameId !== undefined; frameId = parent.get(frameId)) {
        const frame = byId.get(frameId);
        if (!frame || frame.callFrame.functionName === '(root)') continue;
        const name = label(frame);
        if (seen.has(name)) continue;
        seen.add(name);
        inclusive.set(name, (inclusive.get(name) ?? 0) + ms);
      }
    });
  }
  const sorted = (map: Map<string, number>) => [...map.entries()].sort((a, b) => b[1] - a[1]);
  return { totalMs, self: sorted(self), inclusive: sorted(inclusive), packages: sorted(packages) };
}

export function readProfiles(folder: string): CpuProfile[] {
  return readdirSync(folder)
    .filter((file) => file.endsWith('.cpuprofile'))
    .map((file) => JSON.parse(readFileSync(join(folder, file), 'utf8')) as CpuProfile);
}

export function printSummary(title: string, summary: ProfileSummary, top: number): void {
  const busy = summary.totalMs - summary.packages.filter(([name]) => IDLE.has(name) && name === '(idle)').reduce((sum, [, ms]) => sum + ms, 0);
  const share = (ms: number) => `${((100 * ms) / busy).toFixed(1).padStart(5)}%`;
  console.log(`\n== ${title}: ${(summary.totalMs / 1000).toFixed(1)} s sampled, ${(busy / 1000).toFixed(1)} s not idle (shares below are of the non-idle time)`);
  console.log('-- self time');
  for (const [name, ms] of summary.self.filter(([name]) => !name.startsWith('(idle)')).slice(0, top)) console.log(`  ${share(ms)}  ${name}`);
  console.log('-- inclusive time');
  for (const [name, ms] of summary.inclusive.filter(([name]) => !name.startsWith('(idle)')).slice(0, top)) console.log(`  ${share(ms)}  ${name}`);
  console.log('-- by package');
  for (const [name, ms] of summary.packages.filter(([name]) => name !== '(idle)').slice(0, top)) console.log(`  ${share(ms)}  ${name}`);
}

if (require.main === module) {
  const [folder, top = '15'] = process.argv.slice(2);
  if (!folder) {
    console.error('usage: load-profile <folder with .cpuprofile files> [top]');
    process.exit(2);
  }
  printSummary(folder, summarise(readProfiles(folder)), Number(top));
}
