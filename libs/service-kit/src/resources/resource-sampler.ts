import { readFileSync, statfsSync } from 'node:fs';
import { cpus, freemem, tmpdir, totalmem } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** What a worker process is under, each as a ratio (0-1) except the event loop's delay (seconds). */
export interface ResourceSample {
  /** The machine's CPU busy share since the previous sample (all cores). */
  cpu: number;
  /** Memory in use: of the container's limit (cgroup v2) when it has one, else of the machine's. */
  memory: number;
  /** The event loop's p99 delay since the previous sample, in seconds. */
  eventLoopLag: number;
  /** The share of the data disk (the temp folder's file system) in use. */
  disk: number;
}

export type ResourceName = keyof ResourceSample;
export const RESOURCE_NAMES: readonly ResourceName[] = ['cpu', 'memory', 'eventLoopLag', 'disk'];

function cpuTimes(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const core of cpus()) {
    const { user, nice, sys, idle: coreIdle, irq } = core.times;
    idle += coreIdle;
    total += user + nice + sys + coreIdle + irq;
  }
  return { idle, total };
}

/** cgroup v2's memory.current / memory.max, or undefined outside a limited container. */
function containerMemory(): number | undefined {
  try {
    const max = readFileSync('/sys/fs/cgroup/memory.max', 'utf8').trim();
    if (max === 'max') return undefined;
    return Number(readFileSync('/sys/fs/cgroup/memory.current', 'utf8').trim()) / Number(max);
  } catch {
    return undefined;
  }
}

/** Samples the resources of this process's machine (or container); each call covers the time since the previous one. */
export class ResourceSampler {
  private lastCpu = cpuTimes();
  private readonly loop = monitorEventLoopDelay({ resolution: 10 });

  constructor(private readonly dataPath: string = tmpdir()) {
    this.loop.enable();
  }

  sample(): ResourceSample {
    const now = cpuTimes();
    const total = now.total - this.lastCpu.total;
    const cpu = total > 0 ? 1 - (now.idle - this.lastCpu.idle) / total : 0;
    this.lastCpu = now;
    const eventLoopLag = this.loop.count > 0 ? this.loop.percentile(99) / 1e9 : 0;
    this.loop.reset();
    let disk = 0;
    try {
      const stats = statfsSync(this.dataPath);
      disk = stats.blocks > 0 ? 1 - stats.bavail / stats.blocks : 0;
    } catch {
      // A file system that cannot be read is not reported as full.
    }
    return { cpu: Math.max(0, Math.min(1, cpu)), memory: containerMemory() ?? 1 - freemem() / totalmem(), eventLoopLag, disk };
  }

  stop(): void {
    this.loop.disable();
  }
}
