/**
 * Removing a lab run: every process inside its namespaces (BIRD, probes) and
 * every BIRD naming its run directory, every namespace it recorded or that
 * carries its prefix, its run directory. Used by `down`, by `up` when
 * anything fails, and by `up` for runs a killed `up` left half built.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Log } from '../runtime/exec.js';
import { listNamespaces, removeNamespaces, type RemoveReport } from '../runtime/netns.js';
import { processesWithPathUnder } from '../runtime/proc.js';
import { ownerGone } from '../runtime/stale.js';
import { labBase, readState, type LabState } from './state.js';

/** Namespaces of a run still present: recorded ones and any carrying its prefix. */
export function namespacesOf(state: Pick<LabState, 'prefix' | 'namespaces'>): string[] {
  const present = listNamespaces();
  return [...new Set([...state.namespaces.filter((n) => present.includes(n)), ...present.filter((n) => n.startsWith(state.prefix))])];
}

/** BIRD daemons of a run: those whose -c/-s/-P paths lie in its run directory. */
export const birdsOf = (dir: string): number[] => processesWithPathUnder(dir, 'bird');

/** Remove a run; its directory goes only when nothing else of it is left. */
export function teardown(state: LabState): RemoveReport {
  const r = removeNamespaces(namespacesOf(state), { extraPids: birdsOf(state.dir) });
  const left = [...new Set([...r.left, ...birdsOf(state.dir).map((p) => `process ${p}`)])];
  if (left.length === 0 && existsSync(state.dir)) rmSync(state.dir, { recursive: true, force: true });
  return { ...r, left };
}

/** Remove the runs under the lab directory that a killed `lab up` left half built; logs one line each. */
export function sweepStaleRuns(env: NodeJS.ProcessEnv, log: Log): void {
  const base = labBase(env);
  if (!existsSync(base)) return;
  for (const e of readdirSync(base)) {
    let st: LabState | undefined;
    try {
      st = readState(join(base, e));
    } catch {
      continue; // not a run directory
    }
    if (!st || st.phase !== 'building' || !ownerGone(st.owner)) continue;
    const r = teardown(st);
    log(`removed run ${st.runId} of stack ${st.stack}, left half built by a lab up (pid ${st.owner}) that is gone: ${r.namespaces} namespace(s), ${r.processes} process(es)${r.left.length ? `; could not remove ${r.left.join(', ')}` : ''}`);
  }
}
