#!/usr/bin/env node
// flat6 render against its peer: a Jinja2 script (bench/render-peer.py, Debian's
// python3-jinja2) writing each host's sysctl, netplan and kubeadm files from the
// inventory `flat6 plan --json` gives. Uses dist/ (`npm run build` first).
//
//   node bench/render-peer.mjs [--sizes 100,1000,10000] [--runs 3]
//
// Per size: a copy of the scale stack cut to that many hosts (racks of 50),
// its inventory from `flat6 plan --json` (+ the few stack values the plan JSON
// does not carry, + the secrets), Jinja2 templates translated mechanically from
// flat6's own .hbs (so both sides render the same text), then, in one run and
// alternating: `flat6 render` (--jobs 1 and the default, every CPU) and the
// script, each writing a fresh directory. The script's files must equal
// flat6's byte for byte and mode for mode for every host. Prints the best of
// --runs wall times, files written, per-host and per-file ratios.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PY = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const { values } = parseArgs({ options: { sizes: { type: 'string', default: '100,1000,10000' }, runs: { type: 'string', default: '3' } } });
const SIZES = values.sizes.split(',').map(Number);
const RUNS = Number(values.runs);
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

const work = mkdtempSync(join(tmpdir(), 'flat6-bench-peer-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
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
  return timed([process.execPath, join(ROOT, 'bin', 'flat6.js'), ...args]);
}

function countFiles(dir) {
  let n = 0;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) e.isDirectory() ? walk(join(d, e.name)) : n++;
  };
  walk(dir);
  return n;
}

const rows = [];
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
  const best = { f1: Infinity, fN: Infinity, py: Infinity, f1Cpu: Infinity, fNCpu: Infinity, pyCpu: Infinity };
  let f6files = 0;
  let pyfiles = 0;
  for (let run = 0; run < RUNS; run++) {
    for (const which of ['f1', 'py', 'fN']) {
      const out = join(work, `${which}-${size}-${run}`);
      if (which === 'py') {
        mkdirSync(out);
        const r = timed([PY, join(ROOT, 'bench', 'render-peer.py'), invFile, tplDir, out]);
        best.py = Math.min(best.py, r.ms);
        best.pyCpu = Math.min(best.pyCpu, r.cpu);
        pyfiles = JSON.parse(r.stdout).files;
      } else {
        const r = flat6(['render', '--stack', stack, '--out', out, '--secrets', secretsFile, '--all-hosts', ...(which === 'f1' ? ['--jobs', '1'] : [])]);
        best[which] = Math.min(best[which], r.ms);
        best[`${which}Cpu`] = Math.min(best[`${which}Cpu`], r.cpu);
        f6files = Number(/(\d+) files/.exec(r.stdout)[1]);
      }
    }
    // byte and mode identity, every host, on the first run
    if (run === 0) {
      const py = join(work, `py-${size}-0`);
      const f6 = join(work, `f1-${size}-0`);
      let compared = 0;
      for (const n of inv.nodes) {
        for (const f of ['etc/sysctl.d/99-flat6.conf', 'etc/netplan/60-flat6.yaml', 'etc/flat6/kubeadm.yaml']) {
          const a = join(py, 'hosts', n.name, f);
          const b = join(f6, 'hosts', n.name, f);
          if (!readFileSync(a).equals(readFileSync(b))) throw new Error(`peer output differs from flat6: hosts/${n.name}/${f}\n(diff ${a} ${b})`);
          if ((lstatSync(a).mode & 0o7777) !== (lstatSync(b).mode & 0o7777)) throw new Error(`mode differs: hosts/${n.name}/${f}`);
          compared++;
        }
      }
      if (compared !== countFiles(join(py, 'hosts'))) throw new Error('peer wrote files flat6 did not');
    }
    for (const which of ['f1', 'py', 'fN']) rmSync(join(work, `${which}-${size}-${run}`), { recursive: true, force: true });
  }
  rows.push({ size: inv.nodes.length, planMs: planRun.ms, ...best, f6files, pyfiles });
}

console.log(`flat6 render vs a Jinja2 script (${PY}, jinja2 ${spawnSync(PY, ['-c', 'import jinja2; print(jinja2.__version__)'], { encoding: 'utf8' }).stdout.trim()}), best of ${RUNS}, wall ms; process start-up included on both sides`);
console.log(`node ${process.version}, ${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log('the script\'s sysctl, netplan and kubeadm files equal flat6\'s for every host (bytes and modes)');
console.log('');
const head = ['hosts', 'jinja2 wall', 'cpu', 'files', 'flat6 -j1 wall', 'cpu', 'flat6 -jN wall', 'cpu', 'files', 'host wall -j1/py', '-jN/py', 'host cpu -j1/py', 'file wall -j1/py', '-jN/py', 'file cpu -j1/py', 'plan --json'];
const table = rows.map((r) => {
  const perFile = (ms, py) => (ms / r.f6files / (py / r.pyfiles)).toFixed(2);
  return [r.size, r.py.toFixed(0), r.pyCpu.toFixed(0), r.pyfiles, r.f1.toFixed(0), r.f1Cpu.toFixed(0), r.fN.toFixed(0), r.fNCpu.toFixed(0), r.f6files, (r.f1 / r.py).toFixed(2), (r.fN / r.py).toFixed(2), (r.f1Cpu / r.pyCpu).toFixed(2), perFile(r.f1, r.py), perFile(r.fN, r.py), perFile(r.f1Cpu, r.pyCpu), r.planMs.toFixed(0)].map(String);
});
const widths = head.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
console.log(head.map((h, i) => h.padStart(widths[i])).join('  '));
for (const t of table) console.log(t.map((c, i) => c.padStart(widths[i])).join('  '));
console.log('(ms; cpu = user + sys of the whole process, worker threads included)');
console.log('');
console.log('ratios are time(flat6) / time(jinja2): below 1 means flat6 is faster; per file divides each side by the files it wrote');
