/**
 * Worker thread of a parallel render (src/render/pool.ts): plans the stack
 * it is handed (checked by the main thread: no reading, parsing or
 * validating here), then renders the units it is sent, one at a time. A function rather
 * than a module's top level, so the CLI bundle carries it too
 * (bin/render-worker.cjs runs it from there; src/render/worker.ts from dist/).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Flat6Error, UsageError } from '../core/diagnostics.js';
import { createPlan } from '../plan/plan.js';
import { stackFromData } from '../spec/load.js';
import type { RenderContext } from './context.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './pool.js';
import { TemplateSet } from './templates.js';
import { renderUnit } from './units.js';

function fail(id: number, e: unknown): WorkerReply {
  if (e instanceof Flat6Error) return { id, error: { kind: 'flat6', message: e.message, diagnostics: e.diagnostics, exitCode: e.exitCode } };
  if (e instanceof UsageError) return { id, error: { kind: 'usage', message: e.message } };
  return { id, error: { kind: 'error', message: (e as Error)?.stack ?? String(e) } };
}

export function runRenderWorker(): void {
  const init = workerData as WorkerInit;
  let ctx: RenderContext | undefined;
  let setupError: unknown;
  try {
    const plan = createPlan(stackFromData(init.stack));
    ctx = { plan, templates: new TemplateSet(init.templates), secrets: init.secrets };
  } catch (e) {
    setupError = e;
  }
  const only = init.only === undefined ? undefined : ctx?.plan.findNode(init.only);

  parentPort!.on('message', (req: WorkerRequest) => {
    if (!ctx) {
      parentPort!.postMessage(fail(req.id, setupError));
      return;
    }
    renderUnit(ctx, req.unit, { root: init.root, format: init.format, umask: init.umask, only, collect: init.collect, direct: init.direct }).then(
      (result) => parentPort!.postMessage({ id: req.id, result } satisfies WorkerReply, result.collected ? [result.collected.data.buffer as ArrayBuffer] : []),
      (e: unknown) => parentPort!.postMessage(fail(req.id, e)),
    );
  });
}
