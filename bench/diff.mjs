#!/usr/bin/env node
// Times `flat6 diff` on the 1,048,576-node scale stack in a git repository made
// for the run (base commit, head commit), and prints wall time and peak RSS per
// case. Uses the compiled dist/ (run `npm run build` first).
//
//   node bench/diff.mjs [--runs N]
//
// Cases (base -> head):
//   one rack added      generated racks, count 16383 -> 16384 (the bundled stack)
//   one rack changed    the same cluster as a list of 16,384 racks with their index;
//                       one rack gets its own gateway (its 64 nodes: RENUMBER)
//   one template changed  a comment line added to sysctl/99-flat6.conf.hbs, which
//                       every host renders: the count is reported, a sample rendered
//
// Each run is a new process (`node bench/diff.mjs --one CASE`) that runs the CLI
// in-process and prints its own figures: "in-process" is the diff after the
// modules are loaded, "process" the whole command from spawn to exit, and peak
// RSS is process.resourceUsage().maxRSS of that process (Node itself included).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(ROOT, 'dist', 'cli', 'index.js'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(2);
}
const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, one: { type: 'string' }, repo: { type: 'string' } } });

const CASES = {
  'one rack added': { dir: 'added', args: ['--stack', 'scale'] },
  'one rack changed': { dir: 'changed', args: ['--stack', 'scale'] },
  'one template changed': { dir: 'template', args: ['--stack', 'scale', '--templates', 'templates'] },
};

if (values.one) {
  // Child: one diff in this process; print figures as JSON.
  const t0 = performance.now();
  const { run } = await import('../dist/cli/index.js');
  const t1 = performance.now();
  let out = '';
  const io = { stdout: (t) => void (out += t), stderr: () => {}, env: {}, cwd: values.repo, isTTY: false };
  const code = await run(['diff', ...CASES[values.one].args, '--base', 'HEAD~1', '--format', 'json'], io);
  const t2 = performance.now();
  const s = JSON.parse(out).stacks[0];
  console.log(
    JSON.stringify({
      code,
      load: t1 - t0,
      diff: t2 - t1,
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
      added: s.counts.added,
      renumbered: s.counts.renumbered,
      hostsInputs: s.hostCoverage.inputsChanged,
      hostsRendered: s.hostCoverage.rendered,
      routersRendered: s.routerCoverage.rendered,
    }),
  );
  process.exit(0);
}

const git = (cwd, ...args) =>
  execFileSync('git', args, {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@example.invalid', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@example.invalid', GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' },
  });

const work = mkdtempSync(join(tmpdir(), 'flat6-bench-diff-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

function repo(name, base, head, extra = () => {}) {
  const dir = join(work, name);
  mkdirSync(join(dir, 'stacks'), { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'stacks', 'Pulumi.scale.yaml'), base);
  extra(dir, 'base');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'base');
  writeFileSync(join(dir, 'stacks', 'Pulumi.scale.yaml'), head);
  extra(dir, 'head');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'head');
}

const scale = readFileSync(join(ROOT, 'stacks', 'Pulumi.scale.yaml'), 'utf8');
if (!scale.includes('count: 16384')) throw new Error('stacks/Pulumi.scale.yaml no longer has count: 16384; update bench/diff.mjs');
repo('added', scale.replace('count: 16384', 'count: 16383'), scale);

const listed = (gatewayOf) =>
  scale.replace(/    racks:\n[\s\S]*$/, () => {
    const lines = ['    racks:'];
    for (let i = 0; i < 16384; i++) lines.push(`      - { name: rack${i}, index: ${i}, nodes: 64${gatewayOf(i) ? `, gateway: "${gatewayOf(i)}"` : ''} }`);
    return lines.join('\n') + '\n';
  });
// Rack layout: rack i's subnet is the first /64 of the i-th /57 of 2001:db8:4000::/43;
// rack 8191 = 0b01111_111111111: 2001:db8:400f:ff80::/64, its default gateway ::1.
repo('changed', listed(() => undefined), listed((i) => (i === 8191 ? '2001:db8:400f:ff80::2' : undefined)));

repo('template', scale, scale, (dir, side) => {
  if (side === 'base') cpSync(join(ROOT, 'templates'), join(dir, 'templates'), { recursive: true });
  else {
    const f = join(dir, 'templates', 'sysctl', '99-flat6.conf.hbs');
    writeFileSync(f, readFileSync(f, 'utf8').replace('\n', '\n# reviewed: a comment every host gets\n'));
  }
});

const RUNS = Number(values.runs);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
for (const [name, c] of Object.entries(CASES)) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--one', name, '--repo', join(work, c.dir)], { encoding: 'utf8' });
    const wall = performance.now() - t0;
    if (r.status !== 0) throw new Error(`${name}: ${r.stderr}`);
    runs.push({ ...JSON.parse(r.stdout.trim().split('\n').pop()), wall });
  }
  rows.push({ name, runs });
}

console.log(`flat6 diff on the scale stack (1,048,576 nodes), ${RUNS} run(s) each, median; node ${process.version}, ${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log('');
const header = ['case', 'exit', 'added', 'renumbered', 'hosts w/ changed inputs', 'hosts rendered', 'routers rendered', 'in-process ms', 'process ms', 'peak RSS MiB'];
const table = rows.map(({ name, runs }) => {
  const r = runs[0];
  return [
    name,
    String(r.code),
    r.added.toLocaleString('en-US'),
    r.renumbered.toLocaleString('en-US'),
    r.hostsInputs.toLocaleString('en-US'),
    String(r.hostsRendered),
    String(r.routersRendered),
    median(runs.map((x) => x.diff)).toFixed(0),
    median(runs.map((x) => x.wall)).toFixed(0),
    median(runs.map((x) => x.maxRssMiB)).toFixed(0),
  ];
});
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const row of table) console.log(line(row));
