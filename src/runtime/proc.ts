/** Processes by PID: alive or not, process groups, stopping them. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleepSync } from './flow.js';

interface ProcStat {
  comm: string;
  state: string;
  pgrp: number;
}

/** Name, state letter and process group from /proc/<pid>/stat, or undefined when it is gone. */
function procStat(pid: number): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses
    const close = stat.lastIndexOf(')');
    const rest = stat.slice(close + 2).split(' ');
    return { comm: stat.slice(stat.indexOf('(') + 1, close), state: rest[0], pgrp: Number(rest[2]) };
  } catch {
    return undefined;
  }
}

const live = (st: ProcStat | undefined): st is ProcStat => st !== undefined && st.state !== 'Z' && st.state !== 'X';

/** True while the process exists and is not a zombie waiting to be reaped. */
export function isAlive(pid: number | undefined): boolean {
  return pid !== undefined && pid > 0 && live(procStat(pid));
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number);
}

/** Live (non-zombie) members of a process group. */
export function groupMembers(pgid: number): number[] {
  return pids().filter((p) => {
    const st = procStat(p);
    return live(st) && st.pgrp === pgid;
  });
}

/**
 * Live processes named `comm` with an argument naming a file inside `dir`
 * (e.g. BIRD's -c/-s/-P paths in a run directory). Only whole path arguments
 * under `dir/` count, so a sibling directory (/run/flat6-lab/metal2) never matches.
 */
export function processesWithPathUnder(dir: string, comm: string): number[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return pids().filter((p) => {
    if (p === process.pid) return false;
    const st = procStat(p);
    if (!live(st) || st.comm !== comm) return false;
    try {
      return readFileSync(join('/proc', String(p), 'cmdline'), 'utf8').split('\0').some((a) => a.startsWith(prefix));
    } catch {
      return false; // gone meanwhile
    }
  });
}

/** Send a signal; a process already gone is no error. */
export function signalPid(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Stop these processes: SIGTERM, SIGKILL to those left after `graceMs`, then wait up to 2 s for them to go. */
export function stopProcesses(list: readonly number[], graceMs = 3_000): void {
  const waitGone = (ms: number): void => {
    for (const end = Date.now() + ms; list.some(isAlive) && Date.now() < end; ) sleepSync(20);
  };
  for (const p of list) signalPid(p, 'SIGTERM');
  waitGone(graceMs);
  for (const p of list.filter(isAlive)) signalPid(p, 'SIGKILL');
  waitGone(2_000);
}
