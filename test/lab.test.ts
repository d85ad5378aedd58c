/**
 * `flat6 lab` for real: network namespaces, veths, the CNI plugins, netplan,
 * sysctl and BIRD, on 2 racks x 2 nodes x 2 pods of the multirack stack, in
 * both routing modes. Each run's namespaces are named f6-<run id>-..., its
 * state lives in a temporary FLAT6_LAB_DIR, and everything is removed after
 * each test even when it fails. Root only (CI runs as root). (~70-90 s)
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatPrefix } from '../src/core/ip.js';
import { birdsOf, teardown } from '../src/lab/down.js';
import { readState, runDirOf, saveState, type LabState } from '../src/lab/state.js';
import { judgeSessions } from '../src/lab/check-routes.js';
import type { BirdProtocol } from '../src/lab/bird.js';
import { listNamespaces } from '../src/runtime/netns.js';
import { cleanupTempDirs, cli, planBundled, tempDir, tool, type CliResult } from './helpers.js';

const ROOT_USER = process.getuid?.() === 0;
const STACK = 'multirack';

let base = '';
let env: NodeJS.ProcessEnv = {};

beforeAll(() => {
  base = tempDir('lab');
  env = { FLAT6_LAB_DIR: base };
});

/** Whatever a test left up is removed, even after a failed assertion. */
afterEach(() => {
  const st = readState(runDirOf(env, STACK));
  if (st) teardown(st);
});
afterAll(cleanupTempDirs);

const lab = (args: string[]): Promise<CliResult> => cli(['lab', ...args, '--stack', STACK], { env });

interface Line {
  status: string;
  detail: string;
}

/** check's output: "STATUS name: detail" lines, by name. */
function parseCheck(stdout: string): Map<string, Line> {
  const m = new Map<string, Line>();
  for (const l of stdout.split('\n')) {
    const x = /^(PASS|FAIL|SKIP) ([^:]+): (.*)$/.exec(l);
    if (x) m.set(x[2]!, { status: x[1]!, detail: x[3]! });
  }
  return m;
}

function state(): LabState {
  const st = readState(runDirOf(env, STACK));
  if (!st) throw new Error('no lab state');
  return st;
}

function ours(prefix: string): string[] {
  return listNamespaces().filter((n) => n.startsWith(prefix));
}

/** down, then nothing of the run may be left: namespaces, processes, run directory. */
async function downAndVerify(st: LabState): Promise<void> {
  const d = await lab(['down']);
  expect(d.code, d.stderr).toBe(0);
  expect(d.stdout).toContain(`nothing of it is left`);
  expect(ours(st.prefix)).toEqual([]);
  expect(birdsOf(st.dir)).toEqual([]);
  expect(existsSync(st.dir)).toBe(false);
}

const NAMES = [
  'route count, nodes',
  'route count, spine',
  'route count, tor-r0',
  'route count, tor-r1',
  'BGP sessions',
  'no tunnel or overlay',
  'pod to pod, same node (ICMPv6)',
  'pod to pod, same node (TCP)',
  'pod to pod, other node, same rack (ICMPv6)',
  'pod to pod, other node, same rack (TCP)',
  'pod to pod, other rack (ICMPv6)',
  'pod to pod, other rack (TCP)',
  'every pod reachable',
  'full-size packet, DF set',
  'pod churn changes no route',
  'every re-added pod reachable',
  'node add',
  'link flap',
  'spine loss',
  'pod attach without DAD',
];
/** bgp mode: the two racks of the lab make two spines (routing.spines' default). */
const BGP_NAMES = [...NAMES, 'route count, spine1'];

async function waitFor(what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const routesOf = (ns: string): string => spawnSync(tool('ip'), ['-n', ns, '-6', 'route', 'show'], { encoding: 'utf8' }).stdout;

/** A lab test builds, checks and removes a lab: allow for a busy machine. */
const LAB_TIMEOUT = 240_000;

describe.runIf(ROOT_USER)('flat6 lab on 2 racks x 2 nodes x 2 pods', () => {
  const plan = planBundled(STACK);
  const prefixOf = (node: string): string => formatPrefix(plan.findNode(node)!.podPrefix);

  it('bgp: up, every check passes; a node whose BIRD stops makes check fail naming what is unreachable; down leaves nothing', async () => {
    const up = await lab(['up', '--racks', '2', '--nodes-per-rack', '2', '--pods-per-node', '2']);
    expect(up.code, up.stderr + up.stdout).toBe(0);
    expect(up.stdout).toMatch(/routes converged \d+ ms after BIRD started/);
    const st = state();
    expect(st.mode).toBe('bgp');
    // 2 spines + 2 ToRs + 4 nodes + 8 pods, every one carrying the run's prefix
    expect(ours(st.prefix).length).toBe(16);
    expect(birdsOf(st.dir).length).toBe(8);

    const check = await lab(['check']);
    const lines = parseCheck(check.stdout);
    expect(check.code, check.stdout).toBe(0);
    expect([...lines.keys()].sort()).toEqual([...BGP_NAMES].sort());
    for (const [name, l] of lines) expect(l.status, `${name}: ${l.detail}`).toBe('PASS');
    expect(lines.get('route count, nodes')!.detail).toMatch(/^4 of 4 nodes hold 2 routes each = plan 2/);
    expect(lines.get('route count, tor-r0')!.detail).toMatch(/^4 route\(s\) = plan 4 /);
    expect(lines.get('route count, tor-r0')!.detail).toContain('default toward the 2 spines (one multipath route)');
    expect(lines.get('route count, spine')!.detail).toMatch(/^4 route\(s\) = plan 4 /);
    expect(lines.get('route count, spine1')!.detail).toMatch(/^4 route\(s\) = plan 4 /);
    expect(lines.get('BGP sessions')!.detail).toBe('8 of 8 established (4 of 4 node-ToR, 4 of 4 ToR-spine)');
    expect(lines.get('every pod reachable')!.detail).toMatch(/^7 of 7 pods answer/);
    expect(lines.get('full-size packet, DF set')!.detail).toMatch(/^1500-byte IPv6 packet .* answered, .*; 1501-byte packet refused at the sender \(.*(local error|message too long).*\); MTU 1500 on all 18 links of the path \(pod r0-n0-p0 eth0, /i);
    expect(lines.get('pod churn changes no route')!.detail).toMatch(/^8 pods deleted .* routing tables identical before, between and after on 4 router\(s\)/);
    const add = lines.get('node add')!.detail;
    expect(add).toContain('tor-r0 4 -> 5 routes');
    expect(add).toContain('plan +1');
    expect(add).toContain('spine, spine1 4/4 -> 4/4 routes (tables unchanged, watched 3 s after tor-r0 learned the route), plan +0');
    expect(add).toContain('spine, spine1 unchanged, tor-r0 one more BGP neighbor');
    // a node's link dropped twice: BFD withdraws its prefix at its ToR within 1 s, its pods answer within 5 s of each restore
    const flap = lines.get('link flap')!.detail;
    expect(flap).toMatch(/^r1-n1's uplink \(tor-r1 port p1\) down 2\.00 s, twice; /);
    for (const n of [1, 2]) expect(flap).toMatch(new RegExp(`flap ${n}: tor-r1 withdrew 2001:db8:4200:41::/64 after 0\\.\\d\\d s; after the restore r1-n1-p\\d answered in [0-4]\\.\\d\\d s`));
    // one spine's links down: the other carries every flow, the routes come back with the links
    const loss = lines.get('spine loss')!.detail;
    expect(loss).toMatch(/^spine1? \(carrying r0-n0-p\d -> r1-n0-p\d\) lost its 2 links .* every ToR's default route went to the other spine alone in \d+ ms; longest gap \d+ ms at the loss .* every route back as planned \d+ ms after the links returned/);
    expect(add).toContain('tor-r0 back to 4 routes');
    // 8 re-added pods and the added node's pod, none waiting for DAD
    expect(lines.get('pod attach without DAD')!.detail).toMatch(/^CNI ADD p50 \d+ ms, p99 \d+ ms, max \d+ ms over 9 pod\(s\) attached during this check; no address of a new pod or of its gateway was tentative/);
    expect(up.stdout).toMatch(/pod attach: CNI ADD p50 \d+ ms, p99 \d+ ms, max \d+ ms over 8 pod\(s\); no address tentative when ADD returned/);
    expect(check.stdout).toContain('all checks passed: 21 passed, 0 failed');

    // Break the data plane: stop the routing daemon of r1-n1.
    const tor1 = st.routers.find((r) => r.name === 'tor-r1')!;
    const bird = state().birds.find((b) => b.name === 'r1-n1')!;
    process.kill(Number(readFileSync(bird.pidFile, 'utf8').trim()), 'SIGTERM');
    await waitFor('tor-r1 to withdraw r1-n1', () => !routesOf(tor1.ns).includes(prefixOf('r1-n1')));
    const broken = await lab(['check']);
    expect(broken.code).toBe(1);
    const b = parseCheck(broken.stdout);
    expect(b.get('every pod reachable')!.status).toBe('FAIL');
    expect(b.get('every pod reachable')!.detail).toMatch(/^5 of 7 pods answer .*unreachable: r1-n1-p\d .* on node r1-n1 \(pod prefix 2001:db8:4200:41::\/64\)/);
    expect(b.get('route count, tor-r1')!.status).toBe('FAIL');
    expect(b.get('route count, tor-r1')!.detail).toContain('missing 2001:db8:4200:41::/64 (pod prefix of r1-n1)');
    expect(b.get('BGP sessions')!.status).toBe('FAIL');
    expect(b.get('BGP sessions')!.detail).toMatch(/^7 of 8 established \(3 of 4 node-ToR, 4 of 4 ToR-spine\); down: .*tor-r1 node_s1 \(r1-n1\): .*r1-n1: BIRD not running/);
    expect(b.get('route count, tor-r0')!.status).toBe('PASS');
    expect(broken.stdout).toMatch(/\d+ check\(s\) FAILED/);

    await downAndVerify(st);
  }, LAB_TIMEOUT);

  it('static: up, every check passes; deleting one ToR route makes check fail naming what is unreachable; down leaves nothing', async () => {
    const up = await lab(['up', '--racks', '2', '--nodes-per-rack', '2', '--pods-per-node', '2', '--mode', 'static']);
    expect(up.code, up.stderr + up.stdout).toBe(0);
    const st = state();
    expect(st.mode).toBe('static');
    expect(ours(st.prefix).length).toBe(15);
    expect(birdsOf(st.dir)).toEqual([]);
    expect(readFileSync(st.labStackFile, 'utf8')).toContain('mode: static');

    const check = await lab(['check']);
    const lines = parseCheck(check.stdout);
    expect(check.code, check.stdout).toBe(0);
    expect([...lines.keys()].sort()).toEqual([...NAMES].sort());
    for (const [name, l] of lines) expect(l.status, `${name}: ${l.detail}`).toBe(['BGP sessions', 'link flap', 'spine loss'].includes(name) ? 'SKIP' : 'PASS');
    expect(lines.get('route count, tor-r1')!.detail).toMatch(/^4 route\(s\) = plan 4 /);
    expect(lines.get('node add')!.detail).toContain('tor-r0 1 more static route(s)');
    expect(lines.get('node add')!.detail).toContain('spine 4 -> 4 routes (table unchanged), plan +0');

    // Break the data plane: remove r1-n0's route (rendered in tor-r1's netplan) from tor-r1.
    const tor1 = st.routers.find((r) => r.name === 'tor-r1')!;
    expect(spawnSync(tool('ip'), ['-n', tor1.ns, '-6', 'route', 'del', prefixOf('r1-n0')]).status).toBe(0);
    const broken = await lab(['check']);
    expect(broken.code).toBe(1);
    const b = parseCheck(broken.stdout);
    expect(b.get('pod to pod, other rack (ICMPv6)')!.status).toBe('FAIL');
    expect(b.get('pod to pod, other rack (ICMPv6)')!.detail).toMatch(/-> r1-n0-p0 .*unreachable: ICMPv6 from .* Destination unreachable/);
    expect(b.get('pod to pod, other rack (TCP)')!.status).toBe('FAIL');
    expect(b.get('every pod reachable')!.detail).toMatch(/^5 of 7 pods answer .*on node r1-n0 \(pod prefix 2001:db8:4200:40::\/64\)/);
    expect(b.get('route count, tor-r1')!.detail).toContain('3 route(s) but plan 4');

    await downAndVerify(st);
  }, LAB_TIMEOUT);

  it('--break NODE: the lab is built without that node\'s route and check fails', async () => {
    const up = await lab(['up', '--racks', '2', '--nodes-per-rack', '1', '--pods-per-node', '1', '--break', 'r1-n0']);
    expect(up.code, up.stderr + up.stdout).toBe(0);
    expect(up.stdout).toContain('--break: BIRD not started on r1-n0');
    const st = state();
    expect(birdsOf(st.dir).length).toBe(5); // 2 spines, 2 ToRs, r0-n0
    const check = await lab(['check']);
    expect(check.code).toBe(1);
    const b = parseCheck(check.stdout);
    expect(b.get('every pod reachable')!.detail).toMatch(/^0 of 1 pods answer .*unreachable: r1-n0-p0 .* on node r1-n0/);
    expect(b.get('BGP sessions')!.detail).toContain('r1-n0: BIRD not running');
    await downAndVerify(st);
  }, LAB_TIMEOUT);

  it('a failure half way removes everything the run made', async () => {
    const before = new Set(listNamespaces());
    const overlay = tempDir('overlay');
    mkdirSync(join(overlay, 'routing'));
    writeFileSync(join(overlay, 'routing', 'node-bird.conf.hbs'), 'router id {{routerId}};\nprotocol bgp tor { this is not BIRD syntax; }\n');
    const up = await lab(['up', '--racks', '1', '--nodes-per-rack', '2', '--pods-per-node', '1', '--templates', overlay]);
    expect(up.code).toBe(1);
    expect(up.stderr).toMatch(/bird -c .*bird\.conf .*failed/);
    expect(up.stdout).toMatch(/lab up failed; removed \d+ namespace\(s\)/);
    expect(listNamespaces().filter((n) => !before.has(n) && n.startsWith('f6-'))).toEqual([]);
    expect(birdsOf(runDirOf(env, STACK))).toEqual([]);
    expect(existsSync(runDirOf(env, STACK))).toBe(false);
  }, LAB_TIMEOUT);

  it('a run a killed lab up left half built is removed by the next up; one whose lab up still runs is not', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const dir = runDirOf(env, STACK);
    const prefix = 'f6-dead00-';
    const ns = `${prefix}spine`;
    const stale: LabState = {
      version: 1, stack: STACK, stackFile: '', labStackFile: join(dir, 'lab.yaml'), runId: 'dead00', prefix, dir, mode: 'bgp',
      startedAt: new Date().toISOString(), phase: 'building', owner: dead, options: { podsPerNode: 1, break: [], timeoutSec: 30 },
      namespaces: [ns], birds: [], routers: [], nodes: [], pods: [], timings: {}, generation: 0,
    };
    saveState({ ...stale, owner: process.pid });
    expect(spawnSync(tool('ip'), ['netns', 'add', ns]).status).toBe(0);
    const small = ['up', '--racks', '1', '--nodes-per-rack', '1', '--pods-per-node', '1'];
    // while the process building it lives (here: this one), the run is left alone
    const busy = await lab(small);
    expect(busy.code).toBe(2);
    expect(busy.stderr).toContain(`a lab of stack multirack is being built (run dead00, by pid ${process.pid} since`);
    expect(listNamespaces()).toContain(ns);
    saveState(stale);
    const up = await lab(small);
    expect(up.code, up.stderr + up.stdout).toBe(0);
    expect(up.stdout).toContain(`removed run dead00 of stack multirack, left half built by a lab up (pid ${dead}) that is gone: 1 namespace(s), 0 process(es)`);
    expect(listNamespaces()).not.toContain(ns);
    await downAndVerify(state());
  }, LAB_TIMEOUT);

  it('usage: a second up, a too-large lab, a bad mode, an action missing, check with nothing up', async () => {
    expect((await lab([])).code).toBe(2);
    expect((await lab(['up', '--mode', 'ospf'])).stderr).toContain('--mode is bgp or static');
    expect((await lab(['check', '--racks', '2'])).stderr).toContain('--racks is an option of "flat6 lab up"');
    const none = await lab(['check']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no lab of stack multirack is up');
    const big = await cli(['lab', 'up', '--stack', 'scale'], { env });
    expect(big.code).toBe(2);
    expect(big.stderr).toContain('it builds at most 256');
    expect(existsSync(runDirOf(env, 'scale'))).toBe(false);
    const d = await lab(['down']);
    expect(d.code).toBe(0);
    expect(d.stdout).toContain('nothing to remove');
  }, LAB_TIMEOUT);
});

describe('flat6 lab without root', () => {
  it('exits 2 with a clear message and creates nothing', async () => {
    const spy = vi.spyOn(process as unknown as { getuid: () => number }, 'getuid').mockReturnValue(1000);
    try {
      const dir = tempDir('nonroot');
      for (const action of ['up', 'check', 'down']) {
        const r = await cli(['lab', action, '--stack', STACK], { env: { FLAT6_LAB_DIR: dir } });
        expect(r.code).toBe(2);
        expect(r.stderr).toContain('needs root');
      }
      expect(existsSync(join(dir, STACK))).toBe(false);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('lab check: BGP sessions are judged against every session the lab must have', () => {
  const plan = planBundled(STACK);
  const st = {
    routers: [
      { name: 'spine', kind: 'spine' as const, ns: 'x-spine' },
      { name: 'tor-r0', kind: 'tor' as const, ns: 'x-tor0', rackIndex: 0 },
      { name: 'tor-r1', kind: 'tor' as const, ns: 'x-tor1', rackIndex: 1 },
    ],
    nodes: [0, 1].flatMap((r) => [0, 1].map((s) => ({ name: `r${r}-n${s}`, rackIndex: r, slot: s, ns: `x-${r}-${s}`, uplink: 'eth0', port: `p${s}` }))),
  };
  const bgp = (name: string, info = 'Established'): [string, BirdProtocol] => [name, { name, proto: 'BGP', state: info === 'Established' ? 'up' : 'start', info }];
  const running = new Set(['spine', 'tor-r0', 'tor-r1', 'r0-n0', 'r0-n1', 'r1-n0', 'r1-n1']);
  const full = (): Map<string, Map<string, BirdProtocol> | undefined> =>
    new Map([
      ['spine', new Map([bgp('tor0'), bgp('tor1')])],
      ['tor-r0', new Map([bgp('node_s0'), bgp('node_s1'), bgp('spine')])],
      ['tor-r1', new Map([bgp('node_s0'), bgp('node_s1'), bgp('spine')])],
    ]);

  it('passes with every session Established', () => {
    const j = judgeSessions(st, plan, full(), running);
    expect(j).toEqual({ ok: true, detail: '6 of 6 established (4 of 4 node-ToR, 2 of 2 ToR-spine)', down: [] });
  });

  it('fails naming the peer when a session is missing, though all present ones are Established', () => {
    const a = full();
    a.get('tor-r1')!.delete('node_s1');
    a.get('spine')!.delete('tor0');
    const j = judgeSessions(st, plan, a, running);
    expect(j.ok).toBe(false);
    expect(j.detail).toBe('4 of 6 established (3 of 4 node-ToR, 1 of 2 ToR-spine)');
    expect(j.down).toEqual(['tor-r1 node_s1 (r1-n1): no such session', 'spine tor0 (tor-r0): no such session']);
  });

  it('fails on a session not Established and on a router whose BIRD is down', () => {
    const a = full();
    a.get('tor-r0')!.set('node_s0', bgp('node_s0', 'Active  Socket: Connection refused')[1]);
    a.set('tor-r1', undefined);
    const j = judgeSessions(st, plan, a, running);
    expect(j.ok).toBe(false);
    expect(j.detail).toBe('3 of 6 established (1 of 4 node-ToR, 2 of 2 ToR-spine)');
    expect(j.down).toEqual(['tor-r0 node_s0 (r0-n0): start Active Socket: Connection refused']);
  });
});
