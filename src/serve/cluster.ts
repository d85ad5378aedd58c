/**
 * `flat6 serve --workers N`: N server processes (node:cluster, each accepting
 * on the shared socket itself) so serving uses every CPU. The primary only
 * starts them, relays each one's metrics to the others once a second (so
 * /metrics sums every process, at most a second old) and forwards SIGTERM.
 */
import cluster, { type Worker } from 'node:cluster';
import type { MetricsSnapshot } from './metrics.js';

/** Set in a worker's environment: which worker it is. */
export const WORKER_ENV = 'FLAT6_SERVE_WORKER';
const RELAY_MS = 1000;

type FromWorker = { type: 'metrics'; snap: MetricsSnapshot } | { type: 'listening'; port: number };
type ToWorker = { type: 'peers'; snaps: MetricsSnapshot[] };

export function isServeWorker(): boolean {
  return cluster.isWorker && process.env[WORKER_ENV] !== undefined;
}

/** In a worker: report the port once listening, send metrics every second, keep the others' latest. */
export function workerSide(snapshot: () => MetricsSnapshot): { peers: () => MetricsSnapshot[]; listening: (port: number) => void; stop: () => void } {
  let peers: MetricsSnapshot[] = [];
  process.on('message', (m: ToWorker) => {
    if (m?.type === 'peers') peers = m.snaps;
  });
  const timer = setInterval(() => process.send?.({ type: 'metrics', snap: snapshot() } satisfies FromWorker), RELAY_MS);
  timer.unref();
  return {
    peers: () => peers,
    listening: (port) => process.send?.({ type: 'listening', port } satisfies FromWorker),
    stop: () => {
      clearInterval(timer);
      // the IPC channel to the primary would keep this process alive
      if (cluster.worker?.isConnected()) cluster.worker.disconnect();
    },
  };
}

/**
 * In the primary: fork `n` workers running this same command, print `ready`
 * once all listen, stop them all on SIGTERM/SIGINT (each drains its requests);
 * resolves with the exit status (1 when a worker died on its own).
 */
export function runPrimary(n: number, ready: (port: number) => void, log: (line: string) => void): Promise<number> {
  cluster.schedulingPolicy = cluster.SCHED_NONE; // workers accept themselves: no hand-off through the primary
  const snaps = new Map<number, MetricsSnapshot>();
  const workers: Worker[] = [];
  let listening = 0;
  let stopping = false;
  let status = 0;
  return new Promise((resolve) => {
    const stop = (why: string): void => {
      if (stopping) return;
      stopping = true;
      log(`serve: ${why}: stopping ${workers.length} worker(s), each finishing its requests in flight`);
      for (const w of workers) if (!w.isDead()) w.process.kill('SIGTERM');
    };
    const onTerm = (): void => stop('SIGTERM');
    const onInt = (): void => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    const relay = setInterval(() => {
      for (const w of workers) {
        if (w.isDead() || !w.isConnected()) continue;
        w.send({ type: 'peers', snaps: [...snaps].filter(([id]) => id !== w.id).map(([, s]) => s) } satisfies ToWorker);
      }
    }, RELAY_MS);
    let alive = n;
    for (let i = 0; i < n; i++) {
      const w = cluster.fork({ [WORKER_ENV]: String(i) });
      workers.push(w);
      w.on('message', (m: FromWorker) => {
        if (m?.type === 'metrics') snaps.set(w.id, m.snap);
        else if (m?.type === 'listening' && ++listening === n) ready(m.port);
      });
      w.on('exit', (code, signal) => {
        if (!stopping) {
          status = 1;
          stop(`worker ${i} exited (${signal ?? `status ${code}`})`);
        }
        if (--alive === 0) {
          clearInterval(relay);
          process.off('SIGTERM', onTerm);
          process.off('SIGINT', onInt);
          resolve(status);
        }
      });
    }
  });
}
