#!/usr/bin/env node
// flat6 render against its peer: a Jinja2 script (bench/render-peer.py, Debian's
// python3-jinja2) writing each host's sysctl, netplan and kubeadm files from the
// inventory `flat6 plan --json` gives. Uses dist/ (`npm run build` first).
//
//   node bench/render-peer.mjs [--sizes 100,1000,10000] [--runs 3] [--dir PATH[,PATH]] [--million]
//
// Per size: a copy of the scale stack cut to that many hosts (racks of 50),
// its inventory from `flat6 plan --json` (+ the few stack values the plan JSON
// does not carry, + the secrets), Jinja2 templates translated mechanically from
// flat6's own .hbs (so both sides render the same text), then, in one run and
// alternating: `flat6 render` (--jobs 1 and the default: see flat6 render --help) and the
// script, each writing a fresh directory. Before every timed run the earlier
// trees are removed and `sync` is called (untimed, the same for both sides),
// so no run pays for the previous one's writeback or deletion. On the first
// run of each size the script's files must equal flat6's byte for byte and
// mode for mode for every host, and the flat6 --jobs 1 and default-jobs trees
// must be identical (file list, bytes, modes). Prints the best of --runs wall
// times, files written, per-host and per-file ratios, one table per --dir,
// labelled with its file system type (default: a directory under the OS temp
// dir, on the disk here, and one under /dev/shm, tmpfs: the disk shows what
// an operator sees, tmpfs the CPU cost without disk noise), with the load
// average before and after each table.
//
// --million (minutes, writes ~7 million files into ~18 GB of archives): also
// bench/render-archive.mjs's 1,048,576-host render (scale stack, --format tar,
// --all-hosts, default jobs), once, into the first --dir with room (the disk
// first), against the goals: wall under 90 s, peak RSS under 256 MB.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PY = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const { values } = parseArgs({
  options: { sizes: { type: 'string', default: '100,1000,10000' }, runs: { type: 'string', default: '3' }, dir: { type: 'string' }, million: { type: 'boolean', default: false } },
});
const SIZES = values.sizes.split(',').filter((x) => x.trim()).map(Number);
const RUNS = Number(values.runs);
const DIRS = values.dir ? values.dir.split(',').filter(Boolean) : [tmpdir(), ...(existsSync('/dev/shm') ? ['/dev/shm'] : [])];
for (const d of DIRS) {
  if (!existsSync(d)) {
    console.error(`--dir ${d}: no such directory`);
    process.exit(2);
  }
}
if (SIZES.length === 0 && !values.million) {
  console.error('nothing to do: --sizes is empty and --million is off');
  process.exit(2);
}
if (!existsSync(join(ROOT, 'dist', 'cli', 'index.js'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(2);
}
const probe = spawnSync(PY, ['-c', 'import jinja2'], { encoding: 'utf8' });
if (probe.status !== 0) {
  console.error(`${PY} has no jinja2: apt-get install python3-jinja2 (scripts/install-test-deps.sh does)`);
  process.exit(2);
}
const { loadStack } = await import('../dist/spec/load.js');

// inputs (stacks, inventories, templates, secrets) in the OS temp dir; output trees under each --dir
const work = mkdtempSync(join(tmpdir(), 'flat6-bench-peer-'));
const cleanup = [work];
let keep = false; // set when a check fails: the trees stay for diff
process.on('exit', () => {
  if (!keep) for (const d of cleanup) rmSync(d, { recursive: true, force: true });
});
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));
const SECRETS = { bootstrapToken: 'abcdef.0123456789abcdef', certificateKey: '0123456789abcdef'.repeat(4), caCertHashes: [] };
const secretsFile = join(work, 'secrets.yaml');
writeFileSync(secretsFile, `bootstrapToken: "${SECRETS.bootstrapToken}"\ncertificateKey: "${SECRETS.certificateKey}"\n`, { mode: 0o600 });

/** Handlebars (the subset flat6's host templates use) -> Jinja2 with trim_blocks/lstrip_blocks. */
function toJinja(hbs) {
  return hbs
    .replace(/\{\{json ([\w.]+)\}\}/g, '{{ $1 | json }}')
    .replace(/\{\{#if ([\w.]+)\}\}/g, '{% if $1 %}')
    .replace(/\{\{else\}\}/g, '{% else %}')
    .replace(/\{\{\/if\}\}/g, '{% endif %}')
    .replace(/\{\{#each ([\w.]+)\}\}/g, '{% for this in $1 %}')
    .replace(/\{\{\/each\}\}/g, '{% endfor %}')
    .replace(/\{\{([\w.]+)\}\}/g, '{{ $1 }}');
}
const tplDir = join(work, 'j2');
for (const t of ['sysctl/99-flat6.conf', 'netplan/60-flat6.yaml', 'kubeadm/init.yaml', 'kubeadm/join.yaml']) {
  mkdirSync(dirname(join(tplDir, t)), { recursive: true });
  writeFileSync(join(tplDir, `${t}.j2`), toJinja(readFileSync(join(ROOT, 'templates', `${t}.hbs`), 'utf8')));
}

/** Run argv under bash's `time`: wall and CPU (user + sys, threads included) in ms, and stdout. */
function timed(argv) {
  const q = (a) => `'${a.replace(/'/g, "'\\''")}'`;
  const r = spawnSync('bash', ['-c', `TIMEFORMAT='%R %U %S'; time ${argv.map(q).join(' ')}`], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr.slice(-2000)}`);
  const lines = r.stderr.trim().split('\n');
  const [wall, user, sys] = lines[lines.length - 1].split(' ').map(Number);
  return { ms: wall * 1000, cpu: (user + sys) * 1000, stdout: r.stdout };
}

function flat6(args) {
  return timed([join(ROOT, 'bin', 'flat6'), ...args]);
}

function countFiles(dir) {
  let n = 0;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) e.isDirectory() ? walk(join(d, e.name)) : n++;
  };
  walk(dir);
  return n;
}

/** File system of a directory from /proc/mounts (longest mount point above it), else `stat -f`. */
function fsOf(dir) {
  const real = realpathSync(dir);
  let best = null;
  try {
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [src, mnt, type] = line.split(' ').map((f) => f?.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))));
      if (!type) continue;
      const under = real === mnt || real.startsWith(mnt.endsWith('/') ? mnt : `${mnt}/`);
      if (under && (!best || mnt.length >= best.mnt.length)) best = { src, mnt, type };
    }
  } catch {
    // no /proc/mounts
  }
  if (best) return best;
  const r = spawnSync('stat', ['-f', '-c', '%T', real], { encoding: 'utf8' });
  return { src: '?', mnt: '?', type: r.stdout.trim() || 'unknown' };
}

/** Every entry below dir: relative path -> type, mode and (files) size and sha256. */
function manifest(dir) {
  const m = new Map();
  const walk = (d, rel) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      m.set(r, entryOf(p));
      if (e.isDirectory()) walk(p, r);
    }
  };
  walk(dir, '');
  return m;
}

function entryOf(p) {
  const st = lstatSync(p);
  const mode = (st.mode & 0o7777).toString(8);
  if (st.isDirectory()) return `dir ${mode}`;
  if (st.isFile()) return `file ${mode} ${st.size} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
  if (st.isSymbolicLink()) return `symlink ${readlinkSync(p)}`;
  return `other ${mode}`;
}

/** Up to 10 differences between two manifests, as lines. */
function manifestDiff(a, b, aName, bName) {
  const out = [];
  for (const [k, v] of a) if (b.get(k) !== v) out.push(`${k}: ${aName} ${v} / ${bName} ${b.get(k) ?? 'missing'}`);
  for (const k of b.keys()) if (!a.has(k)) out.push(`${k}: ${aName} missing / ${bName} ${b.get(k)}`);
  return out.slice(0, 10);
}

function sync() {
  const r = spawnSync('sync');
  if (r.status !== 0) throw new Error(`sync: ${r.stderr}`);
}

const la = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const HOST_FILES = ['etc/sysctl.d/99-flat6.conf', 'etc/netplan/60-flat6.yaml', 'etc/flat6/kubeadm.yaml'];

// per size, once: the stack, its inventory (`flat6 plan --json`) and the script's input
const inputs = [];
for (const size of SIZES) {
  const racks = Math.max(1, Math.round(size / 50));
  const text = readFileSync(join(ROOT, 'stacks', 'Pulumi.scale.yaml'), 'utf8').replace(/count: 16384/, `count: ${racks}`).replace(/nodes: 64\n/, `nodes: ${Math.round(size / racks)}\n`);
  const stack = join(work, `Pulumi.peer${size}.yaml`);
  writeFileSync(stack, text);
  const spec = loadStack(stack).spec;
  const planRun = flat6(['plan', '--stack', stack, '--json']);
  const inv = JSON.parse(planRun.stdout);
  inv.vars = { stack: `peer${size}`, mtu: spec.network.mtu, criSocket: spec.defaults.criSocket, dnsDomain: spec.network.dnsDomain, apiServerPort: spec.controlPlane.apiServerPort };
  inv.secrets = SECRETS;
  const invFile = join(work, `inv${size}.json`);
  writeFileSync(invFile, JSON.stringify(inv));
  inputs.push({ size, stack, inv, invFile, planMs: planRun.ms });
}

console.log(`node ${process.version}, ${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}`);
if (SIZES.length) {
  const jinjaVersion = spawnSync(PY, ['-c', 'import jinja2; print(jinja2.__version__)'], { encoding: 'utf8' }).stdout.trim();
  console.log(`flat6 render vs a Jinja2 script (${PY}, jinja2 ${jinjaVersion}), best of ${RUNS}, wall ms; process start-up included on both sides`);
  console.log('run order per size and run: flat6 --jobs 1, the script, flat6 default jobs (dir: every CPU from 2,000 nodes, 2 from 200, else 1)');
  console.log('before every timed run: the earlier output trees removed and `sync` called (untimed, the same for flat6 and the script)');
  console.log('checked on the first run of each size, for every host: the script\'s sysctl, netplan and kubeadm files equal flat6\'s (bytes and modes),');
  console.log('and the flat6 --jobs 1 and default-jobs trees are identical (file list, bytes, modes); a mismatch stops the bench');
  console.log(`flat6 plan --json (once per size, to stdout): ${inputs.map((x) => `${x.inv.nodes.length} hosts ${x.planMs.toFixed(0)} ms`).join(', ')}`);
}

/** A check failed: keep the trees, render flat6 --jobs 1 again beside them for diff, stop. */
function fail(fsWork, x, what, lines, other) {
  keep = true;
  const ref = join(fsWork, `reference-${x.size}`);
  flat6(['render', '--stack', x.stack, '--out', ref, '--secrets', secretsFile, '--all-hosts', '--jobs', '1']);
  throw new Error(`${what}\n${lines.join('\n')}\n(diff -r ${ref} ${other}; the work directories are kept: ${cleanup.join(' ')})`);
}

const fsList = DIRS.map((dir) => {
  const fsWork = mkdtempSync(join(dir, 'flat6-bench-peer-'));
  cleanup.push(fsWork);
  return { dir, fsWork, fs: fsOf(fsWork) };
});

for (const { fsWork, fs } of SIZES.length ? fsList : []) {
  const laBefore = la();
  const trees = join(fsWork, 'trees');
  const rows = [];
  for (const x of inputs) {
    const { size, stack, inv, invFile } = x;
    const best = { f1: Infinity, fN: Infinity, py: Infinity, f1Cpu: Infinity, fNCpu: Infinity, pyCpu: Infinity };
    const worst = { f1: 0, fN: 0, py: 0 };
    let f6files = 0;
    let pyfiles = 0;
    let ref = null;
    for (let run = 0; run < RUNS; run++) {
      for (const which of ['f1', 'py', 'fN']) {
        rmSync(trees, { recursive: true, force: true });
        mkdirSync(trees);
        sync();
        const out = join(trees, `${which}-${size}-${run}`);
        let r;
        if (which === 'py') {
          mkdirSync(out);
          r = timed([PY, join(ROOT, 'bench', 'render-peer.py'), invFile, tplDir, out]);
          pyfiles = JSON.parse(r.stdout).files;
        } else {
          r = flat6(['render', '--stack', stack, '--out', out, '--secrets', secretsFile, '--all-hosts', ...(which === 'f1' ? ['--jobs', '1'] : [])]);
          f6files = Number(/(\d+) files/.exec(r.stdout)[1]);
        }
        best[which] = Math.min(best[which], r.ms);
        best[`${which}Cpu`] = Math.min(best[`${which}Cpu`], r.cpu);
        worst[which] = Math.max(worst[which], r.ms);
        if (run !== 0) continue;
        // the checks, untimed, before the tree is removed
        if (which === 'f1') {
          ref = manifest(out);
        } else if (which === 'py') {
          let compared = 0;
          for (const n of inv.nodes) {
            for (const f of HOST_FILES) {
              const rel = `hosts/${n.name}/${f}`;
              const got = existsSync(join(out, rel)) ? entryOf(join(out, rel)) : 'missing';
              if (got !== ref.get(rel)) fail(fsWork, x, `peer output differs from flat6 --jobs 1: ${rel}`, [`flat6 ${ref.get(rel) ?? 'missing'}`, `peer  ${got}`], out);
              compared++;
            }
          }
          if (compared !== countFiles(join(out, 'hosts'))) fail(fsWork, x, 'peer wrote files flat6 did not', [], out);
        } else {
          const d = manifestDiff(ref, manifest(out), '-j1', 'default jobs');
          if (d.length) fail(fsWork, x, 'flat6 --jobs 1 and default-jobs trees differ', d, out);
        }
      }
    }
    rmSync(trees, { recursive: true, force: true });
    rows.push({ size: inv.nodes.length, ...best, worst, f6files, pyfiles });
  }
  const laAfter = la();

  console.log('');
  console.log(`== ${fs.type}: ${fsWork} (${fs.src} on ${fs.mnt}) ==`);
  console.log(`load average before ${laBefore}`);
  const head = ['hosts', 'jinja2 wall', 'cpu', 'files', 'flat6 -j1 wall', 'cpu', 'flat6 -jN wall', 'cpu', 'files', 'host wall -j1/py', '-jN/py', 'host cpu -j1/py', 'file wall -j1/py', '-jN/py', 'file cpu -j1/py', 'spread py', '-j1', '-jN'];
  const table = rows.map((r) => {
    const perFile = (ms, py) => (ms / r.f6files / (py / r.pyfiles)).toFixed(2);
    const spread = (w) => (r.worst[w] / r[w]).toFixed(2);
    return [r.size, r.py.toFixed(0), r.pyCpu.toFixed(0), r.pyfiles, r.f1.toFixed(0), r.f1Cpu.toFixed(0), r.fN.toFixed(0), r.fNCpu.toFixed(0), r.f6files, (r.f1 / r.py).toFixed(2), (r.fN / r.py).toFixed(2), (r.f1Cpu / r.pyCpu).toFixed(2), perFile(r.f1, r.py), perFile(r.fN, r.py), perFile(r.f1Cpu, r.pyCpu), spread('py'), spread('f1'), spread('fN')].map(String);
  });
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
  console.log(head.map((h, i) => h.padStart(widths[i])).join('  '));
  for (const t of table) console.log(t.map((c, i) => c.padStart(widths[i])).join('  '));
  console.log(`load average after ${laAfter}`);
}
if (SIZES.length) {
  console.log('');
  console.log('ms; cpu = user + sys of the whole process, worker threads included; spread = worst / best wall of the runs');
  console.log('ratios are time(flat6) / time(jinja2): below 1 means flat6 is faster; per file divides each side by the files it wrote');
}

if (values.million) {
  const HOSTS = 16384 * 64;
  const need = HOSTS * 17.5e3 * 1.3; // archives ~17 KB a host (tar headers and padding included), + 30%
  const free = (d) => {
    const s = statfsSync(d);
    return s.bavail * s.bsize;
  };
  const roomy = (f) => free(f.fsWork) >= need && (f.fs.type !== 'tmpfs' || freemem() >= need + 2e9);
  const pick = [...fsList.filter((f) => f.fs.type !== 'tmpfs'), ...fsList.filter((f) => f.fs.type === 'tmpfs')].find(roomy);
  console.log('');
  if (!pick) {
    console.log(`--million skipped: no --dir with ${(need / 1e9).toFixed(0)} GB free (${fsList.map((f) => `${f.dir} ${(free(f.fsWork) / 1e9).toFixed(0)} GB`).join(', ')})`);
    process.exit(1);
  }
  console.log(`== ${HOSTS.toLocaleString('en-US')}-host archive render (bench/render-archive.mjs --fractions 1 --format tar --render-only: --all-hosts, default jobs), once ==`);
  console.log(`on ${pick.fs.type}: ${pick.fsWork} (${pick.fs.src} on ${pick.fs.mnt}), ${(free(pick.fsWork) / 1e9).toFixed(0)} GB free; \`sync\` called first`);
  sync();
  console.log(`load average before ${la()}`);
  const r = spawnSync(process.execPath, [join(ROOT, 'bench', 'render-archive.mjs'), '--fractions', '1', '--format', 'tar', '--render-only', '--json', '--dir', pick.fsWork], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`render-archive.mjs: ${r.stderr.slice(-2000)}`);
  const x = JSON.parse(r.stdout.trim().split('\n').pop()).rows[0];
  const cpu = x.userS + x.sysS;
  const verdict = (ok) => (ok ? 'met' : 'MISSED');
  console.log(`hosts ${x.hosts}, files ${x.files}, ${x.archives} archives, content ${(x.contentBytes / 1e9).toFixed(2)} GB, archives ${(x.archiveBytes / 1e9).toFixed(2)} GB`);
  console.log(`wall ${x.wallS.toFixed(1)} s (goal under 90 s: ${verdict(x.wallS < 90)}), ${Math.round(x.hosts / x.wallS)} hosts/s`);
  console.log(`cpu ${cpu.toFixed(1)} s (user ${x.userS.toFixed(1)} + sys ${x.sysS.toFixed(1)}, worker threads included; ${(cpu / x.wallS).toFixed(2)} CPUs busy on average)`);
  console.log(`peak RSS ${x.peakRssMB.toFixed(0)} MB (/usr/bin/time %M: the one process, worker threads included; goal under 256 MB: ${verdict(x.peakRssMB < 256)})`);
  console.log(`load average after ${la()}`);
}
