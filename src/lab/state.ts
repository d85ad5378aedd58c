/**
 * The record of one lab run, kept in its run directory so that `check` and
 * `down` find what `up` made. Every namespace and daemon is written down
 * before it is created, so a run that dies half way is still removed whole.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RoutingMode } from '../spec/load.js';

export const STATE_FILE = 'state.json';
/** Default parent of run directories; $FLAT6_LAB_DIR replaces it. */
export const DEFAULT_LAB_DIR = '/run/flat6-lab';

export interface BirdRecord {
  /** router or node name */
  name: string;
  ns: string;
  config: string;
  ctl: string;
  pidFile: string;
}

export interface RouterRecord {
  name: string;
  kind: 'spine' | 'tor';
  ns: string;
  rackIndex?: number;
  /** spines: 0, 1, ... (absent in runs recorded before there could be several: 0) */
  spineIndex?: number;
}

export interface NodeRecord {
  name: string;
  rackIndex: number;
  slot: number;
  ns: string;
  /** uplink name after netplan's renaming */
  uplink: string;
  /** port of the rack switch (in the ToR namespace) the uplink is cabled to */
  port: string;
}

export interface PodRecord {
  name: string;
  node: string;
  ns: string;
  containerId: string;
  address: string;
  /** node-side veth created by the CNI plugin */
  hostVeth: string;
}

/** What `lab up` was asked to build (kept in the state for check and the benchmarks). */
export interface LabBuildOptions {
  racks?: number;
  nodesPerRack?: number;
  podsPerNode: number;
  mode?: RoutingMode;
  /** nodes whose pod prefix is deliberately left unrouted */
  break: string[];
  timeoutSec: number;
}

export interface LabState {
  version: 1;
  stack: string;
  stackFile: string;
  /** the subset stack the lab rendered (inside dir) */
  labStackFile: string;
  runId: string;
  /** every namespace of the run starts with this */
  prefix: string;
  dir: string;
  mode: RoutingMode;
  startedAt: string;
  phase: 'building' | 'up';
  /** PID of the `lab up` building the run; once it is gone, a run still building is stale */
  owner?: number;
  options: LabBuildOptions;
  namespaces: string[];
  birds: BirdRecord[];
  routers: RouterRecord[];
  nodes: NodeRecord[];
  pods: PodRecord[];
  /** ms from the start of `up` to all routes converged */
  timings: Record<string, number>;
  /** counter for CNI container IDs */
  generation: number;
}

export function labBase(env: NodeJS.ProcessEnv): string {
  return resolve(env['FLAT6_LAB_DIR'] || DEFAULT_LAB_DIR);
}

export function runDirOf(env: NodeJS.ProcessEnv, stack: string): string {
  return join(labBase(env), stack);
}

export function newRunId(): string {
  return randomBytes(3).toString('hex');
}

export function readState(dir: string): LabState | undefined {
  const p = join(dir, STATE_FILE);
  if (!existsSync(p)) return undefined;
  return JSON.parse(readFileSync(p, 'utf8')) as LabState;
}

/** Write state.json atomically (write beside, rename). */
export function saveState(s: LabState): void {
  mkdirSync(s.dir, { recursive: true, mode: 0o700 });
  const p = join(s.dir, STATE_FILE);
  const tmp = `${p}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(s, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, p);
}

/** Namespace names: f6-<run id>-spine (-spine1, ...), -tor<r>, -n<r>-<s>, -p<r>-<s>-<k>. */
export const nsName = {
  spine: (prefix: string, s = 0): string => `${prefix}spine${s === 0 ? '' : s}`,
  tor: (prefix: string, rack: number): string => `${prefix}tor${rack}`,
  node: (prefix: string, rack: number, slot: number): string => `${prefix}n${rack}-${slot}`,
  pod: (prefix: string, rack: number, slot: number, k: number): string => `${prefix}p${rack}-${slot}-${k}`,
};
