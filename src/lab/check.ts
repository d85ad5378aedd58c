/**
 * `flat6 lab check`: measurements on the running lab, each reported as one
 * PASS/FAIL/SKIP line with the figure measured.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Log } from '../runtime/exec.js';
import { checkPodAttach, readAttach } from './check-attach.js';
import { checkPodChurn } from './check-churn.js';
import { checkLinkFlap, checkSpineLoss } from './check-fabric.js';
import { checkNodeAdd } from './check-node-add.js';
import { loadLabPlan, type CheckContext, type LabCheckOutcome, type LabCheckStatus } from './check-context.js';
import { checkNoTunnel, checkRoutes, checkSessions } from './check-routes.js';
import { checkAllReachable, checkConnectivity, checkMtu } from './check-traffic.js';
import type { LabState } from './state.js';

export type { LabCheckOutcome, LabCheckStatus };

/** Run every check; each result is logged as one line as soon as it is known. */
export async function labCheck(state: LabState, log: Log): Promise<LabCheckOutcome[]> {
  const plan = loadLabPlan(state);
  const results: LabCheckOutcome[] = [];
  let last = performance.now();
  const report = (status: LabCheckStatus, name: string, detail: string): void => {
    const now = performance.now();
    results.push({ status, name, detail, ms: Math.round(now - last) });
    last = now;
    log(`${status} ${name}: ${detail}`);
  };
  const ctx: CheckContext = { state, plan, render: join(state.dir, 'render'), report, log };
  log(`lab ${state.stack} (${state.mode} mode), run ${state.runId}: ${state.routers.length} router(s), ${state.nodes.length} node(s), ${state.pods.length} pod(s)`);
  // A check that cannot run at all is a FAIL line too; the others still run.
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (e) {
      report('FAIL', name, `could not run: ${(e as Error).message}`);
      return undefined;
    }
  };
  const attachedBefore = readAttach(state).length;
  await step('route count', () => checkRoutes(ctx));
  await step('BGP sessions', () => checkSessions(ctx));
  await step('no tunnel or overlay', () => checkNoTunnel(ctx));
  const t = await step('pod to pod', () => checkConnectivity(ctx));
  if (t) {
    await step('every pod reachable', () => checkAllReachable(ctx, 'every pod reachable', t.source));
    await step('full-size packet, DF set', () => checkMtu(ctx, t));
  }
  const source = await step('pod churn changes no route', () => checkPodChurn(ctx));
  if (source) await step('every re-added pod reachable', () => checkAllReachable(ctx, 'every re-added pod reachable', source));
  const from = source ?? t?.source;
  if (from) await step('node add', () => checkNodeAdd(ctx, from));
  // Faults last: each restores what it broke and waits until the routes are as planned again.
  if (from) await step('link flap', () => checkLinkFlap(ctx, from));
  if (from) await step('spine loss', () => checkSpineLoss(ctx, from));
  await step('pod attach without DAD', () => {
    checkPodAttach(ctx, attachedBefore);
    return Promise.resolve();
  });
  return results;
}
