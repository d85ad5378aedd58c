/**
 * Network namespaces of a lab run: created one step at a time (a signal stops
 * the run before the next one), removed all at once and synchronously, so the
 * removal also works from error paths and exit handlers. A namespace's
 * /etc/netns/<name> directory (what `ip netns exec` mounts over /etc) goes
 * with it.
 */
import { existsSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { must, runSync } from './exec.js';
import { isAlive, stopProcesses } from './proc.js';
import { checkInterrupted } from './signals.js';

/** iproute2's per-namespace /etc: `ip netns exec NS` bind-mounts /etc/netns/NS/<x> over /etc/<x>. */
export const ETC_NETNS = '/etc/netns';

export function listNamespaces(): string[] {
  const r = runSync('ip', ['netns', 'list']);
  if (r.code !== 0) return [];
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

/** PIDs of the processes inside a namespace. */
export function pidsIn(ns: string): number[] {
  const r = runSync('ip', ['netns', 'pids', ns]);
  return r.code === 0 ? r.stdout.split(/\s+/).filter(Boolean).map(Number) : [];
}

export interface NamespaceOptions {
  /** false: IPv6 duplicate address detection off (for addresses unique by construction) */
  dad?: boolean;
}

/** Create a namespace with its loopback up (a step: LabInterrupted once a signal came). */
export async function addNamespace(ns: string, opts: NamespaceOptions = {}): Promise<void> {
  checkInterrupted();
  await must('ip', ['netns', 'add', ns]);
  await must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  if (opts.dad === false) await must('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
}

export interface RemoveReport {
  /** namespaces that were present and removed */
  namespaces: number;
  /** processes stopped */
  processes: number;
  /** what could not be removed */
  left: string[];
}

/**
 * Remove namespaces: stop every process inside them and `extraPids`
 * (SIGTERM, SIGKILL after `graceMs`), delete them, remove their /etc/netns
 * copies. Names that are not present are skipped. Synchronous, never throws.
 */
export function removeNamespaces(names: readonly string[], opts: { extraPids?: readonly number[]; graceMs?: number } = {}): RemoveReport {
  const wanted = new Set(names);
  const present = listNamespaces().filter((n) => wanted.has(n));
  const pids = new Set<number>(opts.extraPids ?? []);
  for (const ns of present) for (const p of pidsIn(ns)) pids.add(p);
  stopProcesses([...pids], opts.graceMs);
  if (present.length) runSync('ip', ['-force', '-batch', '-'], { input: present.map((ns) => `netns delete ${ns}\n`).join(''), timeoutMs: 60_000 });
  for (const ns of wanted) rmSync(join(ETC_NETNS, ns), { recursive: true, force: true });
  const still = new Set(listNamespaces());
  const left = [...wanted].filter((n) => still.has(n)).map((n) => `namespace ${n}`);
  for (const p of pids) if (isAlive(p)) left.push(`process ${p}`);
  return { namespaces: present.length, processes: pids.size, left };
}

/** /etc/netns itself, when it is empty (a lab created it and nothing else lives there now). */
export function removeEmptyEtcNetns(): void {
  try {
    if (existsSync(ETC_NETNS) && readdirSync(ETC_NETNS).length === 0) rmdirSync(ETC_NETNS);
  } catch {
    // in use meanwhile
  }
}
