/**
 * What a killed flat6 (kill -9, a crash) left behind. Every lab run is owned
 * by a process while it is being built or run; once that process is gone and
 * nothing else holds the run, its namespaces, processes and files are stale
 * and the next run of the same lab removes them. The HA lab puts the owner's
 * PID in every name it creates (`f6ha-<pid>-...`); `flat6 lab` records it in
 * the run's state (the run is held by its state once `up` has finished).
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { listNamespaces, removeEmptyEtcNetns, removeNamespaces, ETC_NETNS } from './netns.js';
import { isAlive } from './proc.js';

/** True when a process owned the run and is gone. */
export function ownerGone(pid: number | undefined): boolean {
  return pid !== undefined && !isAlive(pid);
}

/** The owner PID a name carries as `<prefix><pid>-...`, or undefined. */
export function ownerIn(name: string, prefix: string): number | undefined {
  if (!name.startsWith(prefix)) return undefined;
  const m = /^(\d+)-/.exec(name.slice(prefix.length));
  return m ? Number(m[1]) : undefined;
}

/** Of `names`, those carrying the PID of a process that is gone. */
export function abandoned(names: readonly string[], prefix: string): string[] {
  return names.filter((n) => ownerGone(ownerIn(n, prefix)));
}

export interface StaleSweep {
  /** name prefix followed by the owner PID: `f6ha-` for f6ha-<pid>-... */
  namePrefix: string;
  /** directories whose entries named `<entryPrefix><pid>-...` belong to a run (temporary directories) */
  dirs?: ReadonlyArray<{ parent: string; entryPrefix: string }>;
}

/**
 * Remove the namespaces (with the processes inside them), /etc/netns copies
 * and directories whose owner is gone. Returns what was removed.
 */
export function sweepAbandoned(s: StaleSweep): string[] {
  const namespaces = abandoned(listNamespaces(), s.namePrefix);
  const etc = existsSync(ETC_NETNS) ? abandoned(readdirSync(ETC_NETNS), s.namePrefix) : [];
  const paths = [
    ...etc.map((e) => join(ETC_NETNS, e)),
    ...(s.dirs ?? []).flatMap(({ parent, entryPrefix }) => (existsSync(parent) ? abandoned(readdirSync(parent), entryPrefix).map((e) => join(parent, e)) : [])),
  ];
  removeNamespaces(namespaces, { graceMs: 0 });
  for (const p of paths) rmSync(p, { recursive: true, force: true });
  if (etc.length) removeEmptyEtcNetns();
  return [...namespaces.map((n) => `namespace ${n}`), ...paths];
}
