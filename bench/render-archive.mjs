#!/usr/bin/env node
// Whole-cluster render in archive mode (one tar per rack + the fabric's) of
// the 1,048,576-node scale stack, or fractions of it to show how cost grows.
// Uses dist/ (`npm run build` first).
//
//   node bench/render-archive.mjs [--fractions 0.05,0.1] [--format tar] [--jobs N] [--dir DIR] [--render-only] [--json]
//
// Per fraction f: a copy of the scale stack with round(16384 f) racks of 64
// nodes, `flat6 render --all-hosts --format F --out DIR` timed by bash's
// `time` (wall, user, sys) and /usr/bin/time (peak RSS of the process, worker
// threads included); then the same archive bytes written once more as one
// plain stream (cat of every archive into one file) as the floor a tar
// stream of those bytes costs. Prints hosts/s, µs per host, the ratio
// render/plain stream, and the growth from the smallest fraction.
//   --render-only  skip the plain stream (half the disk space, less time)
//   --json         print one JSON object instead of the table (for
//                  bench/render-peer.mjs --million)
//   --dir DIR      where the work directory goes (default: the OS temp dir)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { fractions: { type: 'string', default: '0.05,0.1' }, format: { type: 'string', default: 'tar' }, jobs: { type: 'string' }, dir: { type: 'string' }, 'render-only': { type: 'boolean', default: false }, json: { type: 'boolean', default: false } } });
if (!existsSync(join(ROOT, 'dist', 'cli', 'index.js'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(2);
}
const work = mkdtempSync(join(values.dir ?? tmpdir(), 'flat6-bench-archive-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const secrets = join(work, 'secrets.yaml');
writeFileSync(secrets, `bootstrapToken: "abcdef.0123456789abcdef"\ncertificateKey: "${'0123456789abcdef'.repeat(4)}"\n`, { mode: 0o600 });

/** Run a shell command line; wall/user/sys seconds and peak RSS (MB). */
function timed(cmd) {
  const r = spawnSync('bash', ['-c', `TIMEFORMAT='%R %U %S'; time /usr/bin/time -f 'MAXRSS %M' ${cmd}`], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr.slice(-2000)}`);
  const lines = r.stderr.trim().split('\n');
  const [wall, user, sys] = lines[lines.length - 1].split(' ').map(Number);
  const rss = Number(/MAXRSS (\d+)/.exec(r.stderr)?.[1] ?? 0) / 1024;
  return { wall, user, sys, rss, stdout: r.stdout, stderr: r.stderr };
}

function archivesOf(out) {
  return [join(out, `fabric.${values.format}`), ...readdirSync(join(out, 'racks')).map((n) => join(out, 'racks', n))];
}

const scale = readFileSync(join(ROOT, 'stacks', 'Pulumi.scale.yaml'), 'utf8');
const rows = [];
for (const f of values.fractions.split(',').map(Number)) {
  const racks = Math.max(1, Math.round(16384 * f));
  const stack = join(work, `Pulumi.arch${racks}.yaml`);
  writeFileSync(stack, scale.replace(/count: 16384/, `count: ${racks}`));
  const out = join(work, `out-${racks}`);
  const jobs = values.jobs ? ` --jobs ${values.jobs}` : '';
  const r = timed(`${join(ROOT, 'bin', 'flat6')} render --stack ${stack} --all-hosts --format ${values.format}${jobs} --out ${out} --secrets ${secrets}`);
  const files = Number(/(\d+) files/.exec(r.stdout)?.[1]);
  const contentBytes = Number(/(\d+) bytes/.exec(r.stdout)?.[1]);
  const archives = archivesOf(out);
  let archiveBytes = 0;
  for (const a of archives) archiveBytes += statSync(a).size;
  const plain = values['render-only'] ? null : timed(`sh -c 'cat ${join(out, 'racks')}/* ${join(out, `fabric.${values.format}`)} > ${join(work, 'plain.tar')}'`);
  rmSync(join(work, 'plain.tar'), { force: true });
  rmSync(out, { recursive: true, force: true });
  rows.push({ f, hosts: racks * 64, files, contentBytes, archiveBytes, archives: archives.length, r, plain });
}

if (values.json) {
  const row = (x) => ({
    fraction: x.f,
    hosts: x.hosts,
    files: x.files,
    contentBytes: x.contentBytes,
    archiveBytes: x.archiveBytes,
    archives: x.archives,
    wallS: x.r.wall,
    userS: x.r.user,
    sysS: x.r.sys,
    peakRssMB: x.r.rss,
    plainWallS: x.plain?.wall ?? null,
  });
  console.log(JSON.stringify({ format: values.format, jobs: values.jobs ? Number(values.jobs) : null, node: process.version, cpus: cpus().length, loadavg: loadavg(), rows: rows.map(row) }));
  process.exit(0);
}
console.log(`flat6 render --all-hosts --format ${values.format}${values.jobs ? ` --jobs ${values.jobs}` : ' (jobs: every CPU)'} of the scale stack cut to fractions of its 16,384 racks x 64 nodes`);
console.log(`node ${process.version}, ${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log('');
console.log('hosts      files      content GB  archive GB  archives  wall s   user s   sys s   peak RSS MB  hosts/s   µs/host  plain stream s  render/plain');
for (const x of rows) {
  console.log(
    [
      String(x.hosts).padEnd(10),
      String(x.files).padEnd(10),
      (x.contentBytes / 1e9).toFixed(2).padEnd(11),
      (x.archiveBytes / 1e9).toFixed(2).padEnd(11),
      String(x.archives).padEnd(9),
      x.r.wall.toFixed(1).padEnd(8),
      x.r.user.toFixed(1).padEnd(8),
      x.r.sys.toFixed(1).padEnd(7),
      x.r.rss.toFixed(0).padEnd(12),
      Math.round(x.hosts / x.r.wall).toString().padEnd(9),
      ((x.r.wall / x.hosts) * 1e6).toFixed(1).padEnd(8),
      (x.plain ? x.plain.wall.toFixed(2) : '-').padEnd(15),
      x.plain ? (x.r.wall / x.plain.wall).toFixed(1) : '-',
    ].join(' '),
  );
}
if (rows.length > 1) {
  const a = rows[0];
  const b = rows[rows.length - 1];
  console.log('');
  console.log(`growth ${a.hosts} -> ${b.hosts} hosts (${(b.hosts / a.hosts).toFixed(1)}x): wall ${(b.r.wall / a.r.wall).toFixed(2)}x, peak RSS ${(b.r.rss / a.r.rss).toFixed(2)}x`);
  console.log(`linear extrapolation to 1,048,576 hosts: ${((b.r.wall / b.hosts) * 1048576).toFixed(0)} s`);
}
