/**
 * What every check of `flat6 lab check` works with: the lab's state and
 * plan, where its files were rendered, and how a result is reported.
 */
import { readFileSync } from 'node:fs';
import { createPlan, type ClusterPlan, type NodePlan } from '../plan/plan.js';
import { LabError, type Log } from '../runtime/exec.js';
import { parseStack } from '../spec/load.js';
import type { LabState, NodeRecord, PodRecord } from './state.js';

export type LabCheckStatus = 'PASS' | 'FAIL' | 'SKIP';

/** One line of `flat6 lab check`. */
export interface LabCheckOutcome {
  status: LabCheckStatus;
  name: string;
  detail: string;
  /** ms since the previous result */
  ms: number;
}

export function loadLabPlan(state: LabState): ClusterPlan {
  return createPlan(parseStack(state.labStackFile, readFileSync(state.labStackFile, 'utf8')));
}

export interface CheckContext {
  state: LabState;
  plan: ClusterPlan;
  /** the rendered tree the lab was built from */
  render: string;
  report: (status: LabCheckStatus, name: string, detail: string) => void;
  log: Log;
}

/** Pod devices (node-side veths) of a node's own pods. */
export function podDevices(state: LabState, node: string): Set<string> {
  return new Set(state.pods.filter((p) => p.node === node).map((p) => p.hostVeth));
}

export function nodePlanOf(ctx: CheckContext, n: NodeRecord): NodePlan {
  const p = ctx.plan.nodeAt(n.rackIndex, n.slot);
  if (!p) throw new LabError(`node ${n.name} is not in the lab stack`);
  return p;
}

export const podText = (p: PodRecord): string => `${p.name} ${p.address}`;
