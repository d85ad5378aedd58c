#!/usr/bin/env node
// How fast a spine takes the whole fabric's routes: one BIRD with the spine's
// rendered bird.conf (unchanged: its timers, BFD, graceful restart and import
// filters) in a namespace with one /127 port per rack, and one BGP session
// per ToR. The ToRs are emulated by a second BIRD in a second namespace that
// holds the ToR end of every link and, per rack, one session that announces
// what the rendered ToR announces (the rack block with the rack layout the
// scale stack uses; else the rack pod block and the rack subnet).
// The spine is started after the ToRs, as after a spine restart. Root only;
// uses the compiled dist/ through bin/flat6.js (run `npm run build` first).
//
//   node bench/spine-routes.mjs [--racks 1024] [--runs 3]
//
// Figures (seconds from the spine's start, median and range of --runs):
//   first route   the first rack route in the spine's kernel table
//   every route   every rack route there (then every session is checked Established)
// plus the spine BIRD's resident memory once it holds everything.
// The emulated ToRs run no BFD (1,024 BFD sessions at 100 ms would measure this
// machine's CPU, not the spine); the spine's BFD requests stay down, which BIRD
// 2.0 does not wait for.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(ROOT, 'dist', 'cli', 'index.js'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  console.error('needs root (network namespaces): run as root');
  process.exit(2);
}
const { values } = parseArgs({ options: { racks: { type: 'string', default: '1024' }, runs: { type: 'string', default: '3' } } });
const RACKS = Number(values.racks);
const RUNS = Number(values.runs);
const NOFILE = Math.max(1024, 4 * RACKS + 256);

const sh = (cmd, args, input) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.stdout}`);
  return r.stdout;
};
const tmp = mkdtempSync(join(tmpdir(), 'flat6-spine-bench-'));
const SPINE = `spinebench${process.pid}-spine`;
/** ToRs per emulating BIRD (one namespace each): one BIRD for a thousand sessions would measure itself. */
const PER_EMULATOR = 64;
const torNs = (k) => `spinebench${process.pid}-tors${k}`;

let namespaces = [SPINE];
function cleanup() {
  for (const ns of namespaces) spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout?.split('\n').filter(Boolean).forEach((p) => spawnSync('kill', ['-9', p]));
  for (const ns of namespaces) spawnSync('ip', ['netns', 'delete', ns]);
}

// The scale stack's layout with RACKS racks of one node: the spine's files depend on the racks alone.
const scale = readFileSync(join(ROOT, 'stacks', 'Pulumi.scale.yaml'), 'utf8');
const stack = join(tmp, 'Pulumi.spinebench.yaml');
writeFileSync(stack, scale.replace(/racks:\n(\s+)count: 16384\n\s+nodes: 64/, `racks:\n$1count: ${RACKS}\n$1nodes: 1`).replace(/count: 3\n/, 'count: 1\n'));
sh(process.execPath, [join(ROOT, 'bin', 'flat6.js'), 'render', '--stack', stack, '--out', join(tmp, 'out')]);
const spineConf = join(tmp, 'out', 'fabric', 'spine', 'etc', 'bird', 'bird.conf');
const text = readFileSync(spineConf, 'utf8');

// Per rack, from the rendered spine config: its session, addresses, AS numbers and the prefixes it accepts
// (one rack block with the rack layout, else the pod block and the subnet).
const racks = [];
const re = /protocol bgp (tor\d+) from timers \{[^}]*?local (\S+) as (\d+);\s+neighbor (\S+) as (\d+);\s+ipv6 \{\s+import where net (?:~ \[ (\S+), (\S+) \]|= (\S+));/g;
for (const m of text.matchAll(re)) racks.push({ proto: m[1], spine: m[2], spineAs: m[3], tor: m[4], torAs: m[5], nets: m[8] ? [m[8]] : [m[6], m[7]] });
if (racks.length !== RACKS) throw new Error(`found ${racks.length} sessions in ${spineConf}, expected ${RACKS}`);
const want = racks.reduce((n, r) => n + r.nets.length, 0);

const groups = [];
for (let k = 0; k * PER_EMULATOR < racks.length; k++) groups.push(racks.slice(k * PER_EMULATOR, (k + 1) * PER_EMULATOR));
namespaces = [SPINE, ...groups.map((_, k) => torNs(k))];
const emuConfs = groups.map((g, k) => {
  const conf = [
    `router id 32.255.${k}.254;`,
    'protocol device { }',
    'protocol static rack_prefixes {',
    '  ipv6;',
    ...g.flatMap((r) => r.nets.map((n) => `  route ${n} unreachable;`)),
    '}',
    ...g.map(
      (r) =>
        `protocol bgp ${r.proto} { local ${r.tor} as ${r.torAs}; neighbor ${r.spine} as ${r.spineAs}; hold time 9; keepalive time 3; connect delay time 1; connect retry time 5; error wait time 1, 5; ipv6 { import none; export where ${r.nets.map((n) => `net = ${n}`).join(' || ')}; }; }`,
    ),
  ].join('\n');
  const file = join(tmp, `tors${k}.conf`);
  writeFileSync(file, conf + '\n');
  return file;
});

function setup() {
  cleanup();
  for (const ns of namespaces) sh('ip', ['netns', 'add', ns]);
  const batch = [];
  racks.forEach((r, i) => batch.push(`link add tor${i} netns ${SPINE} type veth peer name t${i} netns ${torNs(Math.floor(i / PER_EMULATOR))}`));
  sh('ip', ['-batch', '-'], batch.join('\n') + '\n');
  const s = ['link set lo up'];
  const t = groups.map(() => ['link set lo up']);
  racks.forEach((r, i) => {
    s.push(`addr add ${r.spine}/127 dev tor${i} nodad`, `link set tor${i} up`);
    t[Math.floor(i / PER_EMULATOR)].push(`addr add ${r.tor}/127 dev t${i} nodad`, `link set t${i} up`);
  });
  sh('ip', ['-n', SPINE, '-batch', '-'], s.join('\n') + '\n');
  t.forEach((cmds, k) => sh('ip', ['-n', torNs(k), '-batch', '-'], cmds.join('\n') + '\n'));
  sh('ip', ['netns', 'exec', SPINE, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.forwarding=1']);
}

const ctl = (n) => join(tmp, `${n}.ctl`);
const routes = () => Number(sh('ip', ['-n', SPINE, '-6', 'route', 'show', 'proto', 'bird']).split('\n').filter(Boolean).length);
const established = () => {
  const r = spawnSync('birdc', ['-s', ctl('spine'), 'show', 'protocols'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) {
    const pid = readFileSync(join(tmp, 'spine.pid'), 'utf8').trim();
    if (!existsSync(`/proc/${pid}`)) throw new Error(`the spine BIRD (pid ${pid}) is gone: ${spawnSync('journalctl', ['-t', 'bird', '-n', '5', '--no-pager'], { encoding: 'utf8' }).stdout}`);
    return -1;
  }
  return r.stdout.split('\n').filter((l) => /^tor\d+\s+BGP.*Established/.test(l)).length;
};
const rssKiB = () => {
  const pid = readFileSync(join(tmp, 'spine.pid'), 'utf8').trim();
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
};

function once() {
  setup();
  // Room for a socket per session and more, whatever this shell's limit is.
  const bird = (ns, conf, name) => sh('prlimit', [`--nofile=${NOFILE}`, '--', 'ip', 'netns', 'exec', ns, 'bird', '-c', conf, '-s', ctl(name), '-P', join(tmp, `${name}.pid`)]);
  emuConfs.forEach((conf, k) => bird(torNs(k), conf, `tors${k}`));
  const t0 = performance.now();
  bird(SPINE, spineConf, 'spine');
  // Only the kernel table is polled: asking BIRD (birdc) every few ms would
  // take the very thread that processes the updates.
  let first;
  let all;
  while (performance.now() - t0 < 120_000) {
    const n = routes();
    if (first === undefined && n > 0) first = (performance.now() - t0) / 1000;
    if (n === want) {
      all = (performance.now() - t0) / 1000;
      break;
    }
    if (process.env['DEBUG']) console.error(`${((performance.now() - t0) / 1000).toFixed(2)} s: ${n} routes`);
    spawnSync('sleep', ['0.05']);
  }
  const sessions = established();
  const rss = rssKiB();
  const state = `${sessions} sessions, ${routes()} routes`;
  cleanup();
  if (all === undefined || sessions !== racks.length) throw new Error(`not converged in 120 s: ${state}`);
  return { first, all, rss };
}

const fmt = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return `${s[Math.floor(s.length / 2)].toFixed(2)} (${s[0].toFixed(2)}-${s[s.length - 1].toFixed(2)})`;
};
// The IPv6 neighbour table is one for all namespaces (its limits exist in the
// initial namespace only). Every link has two neighbours at each end (global
// and link-local): 4 x racks entries here, a spine alone has 2 x racks. Above
// gc_thresh3 (1,024 by default) the kernel drops packets ("neighbor table
// overflow") and sessions flap. Raised for the run, restored after.
const GC = ['gc_thresh1', 'gc_thresh2', 'gc_thresh3'].map((k) => `net.ipv6.neigh.default.${k}`);
const gcBefore = GC.map((k) => sh('sysctl', ['-n', k]).trim());
const need = 4 * RACKS + 1024;
try {
  sh('sysctl', ['-q', '-w', `${GC[0]}=${Math.max(Number(gcBefore[0]), need)}`, `${GC[1]}=${Math.max(Number(gcBefore[1]), 2 * need)}`, `${GC[2]}=${Math.max(Number(gcBefore[2]), 4 * need)}`]);
  const rs = [];
  for (let i = 0; i < RUNS; i++) rs.push(once());
  console.log(`spine of ${RACKS} racks (rendered fabric/spine/etc/bird/bird.conf), ${racks.length} ToR sessions, ${want} routes; ${RUNS} run(s), seconds from the spine's start:`);
  console.log(`  first route in the kernel  ${fmt(rs.map((r) => r.first))}`);
  console.log(`  every route in the kernel  ${fmt(rs.map((r) => r.all))} (every session then Established)`);
  console.log(`  spine BIRD RSS        ${(Math.max(...rs.map((r) => r.rss)) / 1024).toFixed(1)} MiB`);
} finally {
  cleanup();
  sh('sysctl', ['-q', '-w', ...GC.map((k, i) => `${k}=${gcBefore[i]}`)]);
  rmSync(tmp, { recursive: true, force: true });
}
