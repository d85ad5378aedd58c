/**
 * The writer thread of a directory render (src/render/write-thread.ts): writes
 * the files other threads rendered, unit by unit, so that rendering and the
 * file system's system calls run side by side. It loads no stack, no plan and
 * no template: only the directory writer, so it is ready in milliseconds.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DirWriter } from '../sinks/dir.js';
import type { WriteInit, WriteReply, WriteRequest } from './write-thread.js';

const init = workerData as WriteInit;
const w = new DirWriter(init.root, init.umask);

parentPort!.on('message', (req: WriteRequest) => {
  const files = w.files;
  const bytes = w.bytes;
  try {
    let off = 0;
    for (const f of req.files) {
      w.write(f.path, f.mode, req.data.subarray(off, off + f.size));
      off += f.size;
    }
    parentPort!.postMessage({ id: req.id, files: w.files - files, bytes: w.bytes - bytes } satisfies WriteReply);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    parentPort!.postMessage({ id: req.id, error: { message: err.message, code: typeof err.code === 'string' ? err.code : undefined } } satisfies WriteReply);
  }
});
