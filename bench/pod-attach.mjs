#!/usr/bin/env node
// Pod attach latency on one node: N pods attached (CNI ADD) and detached
// (CNI DEL) one after another in one node namespace, with the real plugins
// from /usr/lib/cni and the node's rendered files (its sysctl.d file applied
// by systemd-sysctl, as at boot, and its etc/cni/net.d/10-flat6.conflist run
// plugin by plugin as a container runtime does, by flat6 lab's own CNI code).
// Then the same run with IPv6 duplicate address detection on the pod path, as
// flat6 rendered it before: the conflist without its loopback + tuning steps
// and the sysctl file without its accept_dad lines. Prints p50/p99 of both and
// their ratio. Root only; uses the compiled dist/ (run `npm run build` first).
//
//   node bench/pod-attach.mjs [--pods N] [--stack NAME] [--host NAME] [--concurrency C] [--dad-on-pods M]
//
// --pods N          pods per run (default 100)
// --dad-on-pods M   pods of the DAD-on run (default N; each waits 1-2 s)
// --concurrency C   ADDs (and DELs) at once (default 1: the latency of one attach)
// An ADD counts from the first plugin's start to the last plugin's end; after
// each ADD the bench records whether the pod's eth0 or the gateway on the
// node's end of the veth was still tentative (DAD running), i.e. whether the
// pod could already send.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(ROOT, 'dist', 'lab', 'check-attach.js'))) {
  console.error('dist/ is missing or old: run `npm run build` first');
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  console.error('the bench creates network namespaces: run as root');
  process.exit(2);
}
const { cniAdd, cniDel, readConflist, attachmentOf } = await import(join(ROOT, 'dist', 'lab', 'cni.js'));
const { percentile, tentativeAfterAdd } = await import(join(ROOT, 'dist', 'lab', 'check-attach.js'));
// What applies sysctl.d files at boot (and what flat6 lab uses for a node's file).
const SYSTEMD_SYSCTL = '/usr/lib/systemd/systemd-sysctl';

const { values } = parseArgs({
  options: {
    pods: { type: 'string', default: '100' },
    'dad-on-pods': { type: 'string' },
    stack: { type: 'string', default: 'metal' },
    host: { type: 'string' },
    concurrency: { type: 'string', default: '1' },
  },
});
const PODS = Number(values.pods);
const DAD_ON_PODS = Number(values['dad-on-pods'] ?? values.pods);
const CONCURRENCY = Number(values.concurrency);
for (const [k, v] of [['--pods', PODS], ['--dad-on-pods', DAD_ON_PODS], ['--concurrency', CONCURRENCY]]) {
  if (!Number.isInteger(v) || v < 1) {
    console.error(`${k} must be a positive integer`);
    process.exit(2);
  }
}

const base = mkdtempSync(join(tmpdir(), 'flat6-bench-attach-'));
const PREFIX = `f6b-${process.pid}-`;
const made = [];
const ip = (args) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
function cleanup() {
  for (const ns of made.splice(0)) spawnSync('ip', ['netns', 'delete', ns]);
  rmSync(base, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

// The node's rendered files.
const out = join(base, 'render');
const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'flat6.js'), 'render', '--stack', values.stack, '--out', out, ...(values.host ? ['--host', values.host] : [])], { encoding: 'utf8' });
if (r.status !== 0) {
  console.error(`flat6 render failed:\n${r.stderr}${r.stdout}`);
  process.exit(1);
}
const hosts = spawnSync('ls', [join(out, 'hosts')], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
const host = values.host ?? hosts[0];
const root = join(out, 'hosts', host);
const sysctlFile = join(root, 'etc/sysctl.d/99-flat6.conf');
const conflist = readConflist(join(root, 'etc/cni/net.d/10-flat6.conflist'));

/** The files as flat6 rendered them before DAD left the pod path. */
function dadOn() {
  const plugins = conflist.plugins.filter((p) => p.type === 'ptp');
  if (plugins.length !== 1 || conflist.plugins.length !== 3) throw new Error(`unexpected plugins in the rendered conflist: ${conflist.plugins.map((p) => p.type).join(', ')}`);
  const file = join(base, 'dad-on-99-flat6.conf');
  writeFileSync(file, readFileSync(sysctlFile, 'utf8').split('\n').filter((l) => !/accept_dad/.test(l)).join('\n'));
  return { list: { ...conflist, plugins }, sysctl: file };
}

async function pool(items, limit, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  }));
}

async function runOnce(label, list, sysctl, n) {
  const node = `${PREFIX}${label}-node`;
  ip(['netns', 'add', node]);
  made.push(node);
  ip(['-n', node, 'link', 'set', 'lo', 'up']);
  execFileSync('ip', ['netns', 'exec', node, SYSTEMD_SYSCTL, sysctl]);
  const pods = Array.from({ length: n }, (_, i) => `${PREFIX}${label}-p${i}`);
  for (const p of pods) {
    ip(['netns', 'add', p]);
    made.push(p);
  }
  const add = [];
  const del = [];
  let waiting = 0;
  const att = (p, i) => ({ nodeNs: node, podNs: p, containerId: `bench-${label}-${i}`, ifname: 'eth0', ipamDataDir: join(base, label, 'ipam'), cacheFile: join(base, label, 'results', `${i}.json`) });
  const t0 = performance.now();
  await pool(pods, CONCURRENCY, async (p, i) => {
    const t = performance.now();
    const res = await cniAdd(list, att(p, i));
    add.push(performance.now() - t);
    const { hostVeth } = attachmentOf(res, 'eth0');
    if ((await tentativeAfterAdd(p, 'eth0', node, hostVeth)).length) waiting++;
  });
  const addWall = performance.now() - t0;
  await pool(pods, CONCURRENCY, async (p, i) => {
    const t = performance.now();
    await cniDel(list, att(p, i));
    del.push(performance.now() - t);
  });
  for (const ns of [...pods, node]) {
    spawnSync('ip', ['netns', 'delete', ns]);
    made.splice(made.indexOf(ns), 1);
  }
  return { label, n, add, del, addWall, waiting };
}

const f = (ms) => ms.toFixed(0).padStart(6);
const row = (x) =>
  `${x.label.padEnd(8)} ${String(x.n).padStart(5)} ${f(percentile(x.add, 50))} ${f(percentile(x.add, 99))} ${f(Math.max(...x.add))} ${f(percentile(x.del, 50))} ${f(percentile(x.del, 99))} ${(x.addWall / 1000).toFixed(2).padStart(8)} ${String(x.waiting).padStart(9)}`;

console.log(`pod attach on one node namespace: host ${host} of stack ${values.stack}, ${CONCURRENCY} at a time, ${cpus().length} CPU(s), load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`conflist plugins: ${conflist.plugins.map((p) => p.type).join(' -> ')}`);
const off = await runOnce('dad-off', conflist, sysctlFile, PODS);
const on = dadOn();
const onRun = await runOnce('dad-on', on.list, on.sysctl, DAD_ON_PODS);
console.log('run        pods  add-p50 add-p99 add-max del-p50 del-p99  add-wall  tentative');
console.log('                      (ms)    (ms)    (ms)    (ms)    (ms)       (s)  after ADD');
console.log(row(off));
console.log(row(onRun));
const ratio = (p) => (percentile(onRun.add, p) / percentile(off.add, p)).toFixed(1);
console.log(`DAD on / DAD off: p50 ${ratio(50)}x, p99 ${ratio(99)}x; goal p50 < 100 ms, p99 < 250 ms: ${percentile(off.add, 50) < 100 && percentile(off.add, 99) < 250 ? 'met' : 'NOT met'}`);
