/**
 * Parallel render: units (src/render/units.ts) go to worker threads, at most
 * two in flight per worker, so the queue is bounded and memory does not grow
 * with the cluster. Every unit writes its own files or archive, so the output
 * is byte-identical to a single-threaded render.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { Flat6Error, UsageError, type Diagnostic } from '../core/diagnostics.js';
import { packageRoot } from '../core/package-root.js';
import type { StackData } from '../spec/load.js';
import { Replies } from './replies.js';
import type { Secrets } from './secrets.js';
import type { OutputFormat, Unit, UnitResult } from './units.js';

/** Young generation of a worker's V8 heap (MB): 8 instead of V8's default cut peak RSS from 284 to 247 MB on a 21,000-host archive render. */
const YOUNG_GENERATION_MB = 8;

/**
 * What a worker's old generation may hold beyond what this thread's heap holds
 * when the pool starts (the stack, its plan, the modules: the worker loads the
 * same): one unit's working set, a spine of 16,384 racks included. Without a
 * bound V8 let each worker's old generation grow with the length of the run:
 * the 1,048,576-host archive render peaked at 319 MB, 206 MB with the bound.
 */
const OLD_GENERATION_HEADROOM_MB = 96;

/** A worker's old-generation limit (MB) for the plan this thread holds now. */
export function workerOldGenerationMb(): number {
  return Math.ceil(getHeapStatistics().used_heap_size / 2 ** 20) + OLD_GENERATION_HEADROOM_MB;
}

export interface WorkerInit {
  /** the stack this thread loaded and checked: workers plan the same one, whatever happens to the file meanwhile */
  stack: StackData;
  templates?: string;
  secrets: Secrets;
  root: string;
  format: OutputFormat;
  umask: number;
  /** name of the one node rendered, if any */
  only?: string;
  /** hand fabric and rack files back (UnitResult.collected) instead of writing them */
  collect?: boolean;
  /** plain tar archives written past the page cache (UnitTarget.direct) */
  direct?: boolean;
}

export interface WorkerRequest {
  id: number;
  unit: Unit;
}

export type WorkerReply =
  | { id: number; result: UnitResult; error?: undefined }
  | { id: number; result?: undefined; error: { kind: 'flat6'; message: string; diagnostics: Diagnostic[]; exitCode: 1 | 2 } | { kind: 'usage' | 'error'; message: string } };

/**
 * The worker's entry, bin/render-worker.cjs: it runs the worker from the CLI
 * bundle, or from the compiled dist/render/worker.js, which must exist either
 * way (whether this module runs from src/, dist/ or the bundle).
 */
export function workerScript(): string {
  const root = packageRoot(import.meta.url);
  const built = join(root, 'dist', 'render', 'worker.js');
  if (!existsSync(built)) throw new UsageError(`parallel render needs the compiled worker ${built}: run npm run build, or pass --jobs 1`);
  return join(root, 'bin', 'render-worker.cjs');
}

function errorOf(e: NonNullable<WorkerReply['error']>): Error {
  if (e.kind === 'flat6') return new Flat6Error(e.diagnostics, e.exitCode);
  if (e.kind === 'usage') return new UsageError(e.message);
  return new Error(`render worker: ${e.message}`);
}

/**
 * Worker threads that render units one at a time each: `run` hands a unit to
 * a worker and settles when it is rendered. Callers keep at most two units per
 * worker in flight (src/render/output.ts), so the queue is bounded.
 */
export class RenderPool {
  private readonly workers: Worker[] = [];
  private readonly replies = new Replies<UnitResult>();

  constructor(size: number, init: WorkerInit) {
    const script = workerScript();
    const oldMb = workerOldGenerationMb();
    for (let i = 0; i < size; i++) {
      // A small young generation and a bounded old one keep each worker's heap (and the process's peak RSS) down.
      const w = new Worker(script, { workerData: init, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB, maxOldGenerationSizeMb: oldMb } });
      w.on('message', (m: WorkerReply) => this.replies.settle(m.id, m.error ? { error: errorOf(m.error) } : { result: m.result }));
      w.on('error', (e: NodeJS.ErrnoException) => {
        // The bound is the plan's size plus room for one unit; reaching it means a unit needed more than that.
        if (e.code === 'ERR_WORKER_OUT_OF_MEMORY') this.replies.fail(new UsageError(`a render worker ran out of memory (old generation limit ${oldMb} MB: this stack's plan plus ${OLD_GENERATION_HEADROOM_MB} MB); render with --jobs 1, which has no such limit`));
        else this.replies.fail(e);
      });
      w.on('exit', (code) => {
        if (code !== 0) this.replies.fail(new Error(`render worker exited with status ${code}`));
      });
      this.workers.push(w);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  /** Render `unit` on worker `index` (one unit at a time per worker). */
  run(index: number, unit: Unit): Promise<UnitResult> {
    return this.replies.request((id) => this.workers[index]!.postMessage({ id, unit } satisfies WorkerRequest));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
