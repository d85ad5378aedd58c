/** Waiting and bounded concurrency for the labs. */
import { LabError } from './exec.js';
import { checkInterrupted } from './signals.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sleep without an event-loop turn (teardown may run from exit handlers). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Wall-clock ms since the epoch with sub-ms resolution (comparable across processes). */
export const now = (): number => performance.timeOrigin + performance.now();

/** Sleep as a step of an interruptible run: a signal ends it within 100 ms. */
export async function pause(ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (let left = ms; left > 0; left = end - Date.now()) {
    checkInterrupted();
    await sleep(Math.min(left, 100));
  }
  checkInterrupted();
}

/** Poll `cond` every `stepMs` until it holds; LabError naming `what` after `timeoutMs`; LabInterrupted after a signal. */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    checkInterrupted();
    if (Date.now() > deadline) throw new LabError(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(stepMs);
  }
}

/** Map over items with at most `limit` running at once; results in input order; the first error is rethrown once all stopped. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const errors: unknown[] = [];
  const worker = async (): Promise<void> => {
    while (errors.length === 0 && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i], i);
      } catch (e) {
        errors.push(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length > 0) throw errors[0];
  return out;
}

/** Run at most `n` of the given tasks at once, in the order they were handed in. */
export function limiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: Array<() => void> = [];
  const next = (): void => {
    if (active >= n || !queue.length) return;
    active++;
    queue.shift()!();
  };
  return <T>(task: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      queue.push(() => {
        task()
          .then(resolve, reject)
          .finally(() => {
            active--;
            next();
          });
      });
      next();
    });
}
