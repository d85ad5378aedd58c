/**
 * A writer thread for directory output: the threads that render hand it each
 * unit's files (one transferred buffer, src/render/units.ts collect) and it
 * creates them (src/render/write-worker.ts). One thread makes every
 * directory and file, so creating them never contends in the kernel (two
 * threads creating files at once cost 2-3x the time on ext4 here), while the
 * rendering thread no longer waits on system calls.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { packageRoot } from '../core/package-root.js';
import { Replies } from './replies.js';
import type { CollectedFiles } from './units.js';

export interface WriteInit {
  root: string;
  umask: number;
}

export interface WriteRequest extends CollectedFiles {
  id: number;
}

export type WriteReply = { id: number; files: number; bytes: number; error?: undefined } | { id: number; error: { message: string; code?: string } };

/** dist/render/write-worker.js, whether this module runs from src/, dist/ or the CLI bundle; undefined when not built. */
export function writeWorkerScript(): string | undefined {
  const built = join(packageRoot(import.meta.url), 'dist', 'render', 'write-worker.js');
  return existsSync(built) ? built : undefined;
}

export class WriteThread {
  private readonly worker: Worker;
  private readonly replies = new Replies<{ files: number; bytes: number }>();

  constructor(script: string, init: WriteInit) {
    this.worker = new Worker(script, { workerData: init });
    this.worker.on('message', (m: WriteReply) =>
      this.replies.settle(m.id, m.error ? { error: Object.assign(new Error(m.error.message), m.error.code === undefined ? {} : { code: m.error.code }) } : { result: { files: m.files, bytes: m.bytes } }),
    );
    this.worker.on('error', (e) => this.replies.fail(e));
    this.worker.on('exit', (code) => {
      if (code !== 0) this.replies.fail(new Error(`writer thread exited with status ${code}`));
    });
  }

  /** Write `c` (its buffer is transferred: `c.data` is unusable afterwards); settles when its files exist. */
  write(c: CollectedFiles): Promise<{ files: number; bytes: number }> {
    return this.replies.request((id) => this.worker.postMessage({ id, files: c.files, data: c.data } satisfies WriteRequest, [c.data.buffer as ArrayBuffer]));
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
