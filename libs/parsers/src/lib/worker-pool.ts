import { ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { WorkerInit, WorkerRequest, WorkerResponse, WorkerResult, WorkerTask } from '../worker/protocol';

export interface TaskLimits {
  timeoutMs: number;
  maxHeapMb: number;
  signal?: AbortSignal;
}

export interface PoolOptions {
  /** Idle workers kept for the next documents. */
  maxIdle: number;
  /** An idle worker is stopped after this long. */
  idleTimeoutMs: number;
  /** A worker is replaced after this many documents (bounds slow leaks in the parsers). */
  maxTasksPerWorker: number;
}

interface Slot {
  worker: Worker;
  heapMb: number;
  tasks: number;
  idleTimer?: NodeJS.Timeout;
}

/**
 * The worker entry beside this library: TypeScript when running from source (jest; Node strips
 * the types), JavaScript in dist/.
 */
function workerInit(): { entry: string; init: WorkerInit } {
  const extension = extname(__filename) === '.ts' ? '.ts' : '.js';
  const moduleDir = join(__dirname, '..', 'worker');
  return { entry: join(moduleDir, `parse-worker${extension}`), init: { moduleDir, extension } };
}

/**
 * Worker threads that parse one document at a time. A worker that succeeded goes back to a small
 * idle pool (unref'd, so it never keeps the process alive); a worker whose document failed, timed
 * out, was cancelled or ran out of memory is terminated before the caller hears of it.
 */
export class ParseWorkerPool {
  private readonly idle: Slot[] = [];
  private readonly busy = new Set<Slot>();
  private nextId = 1;
  private readonly options: PoolOptions;
  private readonly location = workerInit();

  constructor(options: PoolOptions) {
    this.options = options;
  }

  /** Live worker threads (idle and busy). */
  get size(): number {
    return this.idle.length + this.busy.size;
  }

  private spawn(heapMb: number): Slot {
    const worker = new Worker(this.location.entry, {
      workerData: this.location.init,
      // From source, Node reads the worker's .ts files as ES modules and would warn about it.
      execArgv:
        this.location.init.extension === '.ts'
          ? [...process.execArgv, '--disable-warning=MODULE_TYPELESS_PACKAGE_JSON']
          : undefined,
      resourceLimits: {
        maxOldGenerationSizeMb: heapMb,
        maxYoungGenerationSizeMb: Math.max(4, Math.min(32, Math.floor(heapMb / 8))),
        stackSizeMb: 4,
      },
    });
    const slot: Slot = { worker, heapMb, tasks: 0 };
    // Errors of an idle worker must not become uncaught exceptions; a dead worker leaves the pool.
    worker.on('error', () => undefined);
    worker.on('exit', () => this.forget(slot));
    return slot;
  }

  private forget(slot: Slot): void {
    clearTimeout(slot.idleTimer);
    const index = this.idle.indexOf(slot);
    if (index >= 0) this.idle.splice(index, 1);
    this.busy.delete(slot);
  }

  private acquire(heapMb: number): Slot {
    const index = this.idle.findIndex((slot) => slot.heapMb === heapMb);
    const slot = index >= 0 ? this.idle.splice(index, 1)[0] : this.spawn(heapMb);
    clearTimeout(slot.idleTimer);
    slot.worker.ref();
    this.busy.add(slot);
    return slot;
  }

  private release(slot: Slot, heapUsedBytes: number): void {
    this.busy.delete(slot);
    const bloated = heapUsedBytes > slot.heapMb * 1024 * 1024 * 0.5;
    if (slot.tasks >= this.options.maxTasksPerWorker || bloated || this.idle.length >= this.options.maxIdle) {
      void slot.worker.terminate();
      return;
    }
    slot.worker.unref();
    slot.idleTimer = setTimeout(() => void slot.worker.terminate(), this.options.idleTimeoutMs);
    slot.idleTimer.unref();
    this.idle.push(slot);
  }

  run(task: WorkerTask, transfer: ArrayBuffer[], limits: TaskLimits): Promise<WorkerResult> {
    const { signal } = limits;
    if (signal?.aborted) return Promise.reject(cancelled());
    const slot = this.acquire(limits.maxHeapMb);
    const id = this.nextId++;
    slot.tasks += 1;

    return new Promise<WorkerResult>((resolve, reject) => {
      let settled = false;
      const cleanUp = () => {
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        slot.worker.off('message', onMessage);
        slot.worker.off('error', onError);
        slot.worker.off('exit', onExit);
      };
      /** Failure: the worker is gone before the caller hears of it. */
      const fail = (error: DomainError) => {
        if (settled) return;
        cleanUp();
        this.forget(slot);
        slot.worker.terminate().then(
          () => reject(error),
          () => reject(error),
        );
      };
      const onMessage = (response: WorkerResponse) => {
        if (response.id !== id || settled) return;
        if (!response.ok) {
          fail(new DomainError(response.error.code, response.error.message));
          return;
        }
        cleanUp();
        this.release(slot, response.heapUsedBytes);
        resolve(response.result);
      };
      const onError = (error: Error & { code?: string }) => {
        if (error.code === 'ERR_WORKER_OUT_OF_MEMORY') {
          fail(new DomainError(ErrorCode.ResourceLimit, `parsing the document needs more than the ${limits.maxHeapMb} MB of memory allowed`));
        } else {
          fail(new DomainError(ErrorCode.Internal, `the parse worker failed: ${error.message}`));
        }
      };
      const onExit = (code: number) => {
        fail(new DomainError(ErrorCode.Internal, `the parse worker stopped unexpectedly (exit code ${code})`));
      };
      const onAbort = () => fail(cancelled());
      const timer = setTimeout(
        () => fail(new DomainError(ErrorCode.ParseTimeout, `parsing took longer than the ${limits.timeoutMs} ms allowed`)),
        limits.timeoutMs,
      );

      slot.worker.on('message', onMessage);
      slot.worker.on('error', onError);
      slot.worker.on('exit', onExit);
      signal?.addEventListener('abort', onAbort, { once: true });
      const request: WorkerRequest = { id, task };
      try {
        slot.worker.postMessage(request, transfer);
      } catch (error) {
        fail(new DomainError(ErrorCode.Internal, `could not hand the document to the parse worker: ${(error as Error).message}`));
      }
    });
  }

  /** Stops every idle worker (busy ones finish their document and are then stopped). */
  async close(): Promise<void> {
    const idle = this.idle.splice(0);
    await Promise.all(idle.map((slot) => slot.worker.terminate()));
  }
}

function cancelled(): DomainError {
  return new DomainError(ErrorCode.Cancelled, 'parsing was cancelled');
}
