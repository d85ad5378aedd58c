/**
 * Removing a lab run: every process inside its namespaces (BIRD, probes),
 * every namespace it recorded or that carries its prefix, its run directory.
 * Used by `down` and by `up` when anything fails.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, pool, run, sleep } from './exec.js';
import type { LabState } from './state.js';

export async function listNamespaces(): Promise<string[]> {
  const r = await run('ip', ['netns', 'list']);
  if (r.code !== 0) return [];
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

/** Namespaces of a run still present: recorded ones and any carrying its prefix. */
export async function namespacesOf(state: Pick<LabState, 'prefix' | 'namespaces'>): Promise<string[]> {
  const present = new Set(await listNamespaces());
  const out = new Set<string>();
  for (const n of state.namespaces) if (present.has(n)) out.add(n);
  for (const n of present) if (n.startsWith(state.prefix)) out.add(n);
  return [...out];
}

/**
 * PIDs of BIRD daemons whose arguments name a file inside `dir` (the run directory:
 * BIRD's -c/-s/-P paths). Only whole path arguments under `dir/` count, so a sibling
 * run (/run/flat6-lab/metal2) or a user's `tail -f` of a lab file is never touched.
 */
export function processesMentioning(dir: string): number[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readFileSync(join('/proc', e, 'comm'), 'utf8').trim() !== 'bird') continue;
      const args = readFileSync(join('/proc', e, 'cmdline'), 'utf8').split('\0');
      if (args.some((a) => a.startsWith(prefix))) out.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

async function pidsIn(ns: string): Promise<number[]> {
  const r = await run('ip', ['netns', 'pids', ns]);
  return r.code === 0 ? r.stdout.split(/\s+/).filter(Boolean).map(Number) : [];
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Stop these processes: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopProcesses(pids: number[], graceMs = 3000): Promise<void> {
  for (const p of pids) signal(p, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(50);
  for (const p of pids.filter(isAlive)) signal(p, 'SIGKILL');
  const hard = Date.now() + 2000;
  while (pids.some(isAlive) && Date.now() < hard) await sleep(20);
}

export interface TeardownReport {
  namespaces: number;
  processes: number;
  /** what could not be removed */
  left: string[];
}

export async function teardown(state: LabState): Promise<TeardownReport> {
  const namespaces = await namespacesOf(state);
  const pids = new Set<number>();
  for (const ns of namespaces) for (const p of await pidsIn(ns)) pids.add(p);
  for (const p of processesMentioning(state.dir)) pids.add(p);
  await stopProcesses([...pids]);
  await pool(namespaces, 16, (ns) => run('ip', ['netns', 'delete', ns]));
  const left: string[] = [];
  for (const ns of await namespacesOf(state)) left.push(`namespace ${ns}`);
  for (const p of processesMentioning(state.dir)) left.push(`process ${p}`);
  if (left.length === 0 && existsSync(state.dir)) rmSync(state.dir, { recursive: true, force: true });
  return { namespaces: namespaces.length, processes: pids.size, left };
}
