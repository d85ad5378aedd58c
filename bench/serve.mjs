#!/usr/bin/env node
// Load test of `flat6 serve` (root; uses dist/, run `npm run build` first).
//
//   node bench/serve.mjs [--requests N] [--concurrency C] [--addresses N] [--format tar|tar.gz] [--workers N]
//
// For each stack (metal: 6 nodes, scale: 1,048,576 nodes) it creates one
// network namespace (f6srv-<pid>-<stack>), puts N planned node addresses of
// that stack on its loopback (every node of metal; N spread over all racks of
// scale), starts `flat6 serve` there on [::1], and runs a bounded load
// generator in the same namespace: C connections at a time, each request a new
// TCP connection bound to a node's own address fetching that node's tarball
// (as a booting host does). Prints requests/s, p50/p99 latency, the server's
// RSS (now and peak), and the scale/metal ratios. Nothing leaves the namespace;
// it is deleted afterwards.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '30000' },
    concurrency: { type: 'string', default: '64' },
    addresses: { type: 'string', default: '2048' },
    format: { type: 'string', default: 'tar' },
    workers: { type: 'string', default: '1' },
    client: { type: 'string' }, // internal: run the load generator with this JSON job
  },
});

// ---------------------------------------------------------------------------
// Load generator (runs inside the namespace)
// ---------------------------------------------------------------------------
if (values.client) {
  const job = JSON.parse(values.client);
  const lat = [];
  const status = {};
  let bytes = 0;
  let next = 0;
  const one = (target) =>
    new Promise((res) => {
      const t0 = process.hrtime.bigint();
      const s = net.connect({ host: '::1', port: job.port, localAddress: target.address });
      let head = '';
      let n = 0;
      s.on('connect', () => s.end(`GET /v1/hosts/${target.name}.${job.format} HTTP/1.1\r\nhost: flat6\r\nconnection: close\r\n\r\n`));
      s.on('data', (c) => {
        if (head.length < 16) head += c.toString('latin1', 0, 16);
        n += c.length;
      });
      s.on('error', () => {});
      s.on('close', () => {
        lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
        const code = head.slice(9, 12) || 'ERR';
        status[code] = (status[code] ?? 0) + 1;
        bytes += n;
        res();
      });
    });
  const worker = async () => {
    while (next < job.requests) {
      const i = next++;
      await one(job.targets[i % job.targets.length]);
    }
  };
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: job.concurrency }, worker));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  const cpu = process.cpuUsage();
  console.log(JSON.stringify({ secs, rps: job.requests / secs, p50: q(0.5), p99: q(0.99), max: lat[lat.length - 1], status, bytes, clientCpuUs: ((cpu.user + cpu.system) / job.requests) }));
  process.exit(0);
}

// ---------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------
if (process.getuid?.() !== 0) {
  console.error('bench/serve.mjs needs root (network namespaces)');
  process.exit(2);
}
if (!existsSync(join(ROOT, 'dist', 'serve', 'server.js'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(2);
}
const { loadStack } = await import('../dist/spec/load.js');
const { createPlan } = await import('../dist/plan/plan.js');
const { formatAddress } = await import('../dist/core/ip.js');

const REQUESTS = Number(values.requests);
const CONC = Number(values.concurrency);
const NADDR = Number(values.addresses);
const work = mkdtempSync(join(tmpdir(), 'flat6-bench-serve-'));
const secrets = join(work, 'secrets.yaml');
writeFileSync(secrets, `bootstrapToken: "abcdef.0123456789abcdef"\ncertificateKey: "${'0123456789abcdef'.repeat(4)}"\n`, { mode: 0o600 });
const namespaces = [];
process.on('exit', () => {
  for (const ns of namespaces) spawnSync('ip', ['netns', 'del', ns]);
  rmSync(work, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

function ip(args, input) {
  const r = spawnSync('ip', args, { encoding: 'utf8', input });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}

function targetsOf(stack) {
  const plan = createPlan(loadStack(join(ROOT, 'stacks', `Pulumi.${stack}.yaml`)));
  const out = [];
  if (plan.nodeCount <= NADDR) for (const n of plan.nodes()) out.push(n);
  else {
    // spread over the whole cluster: rack i*step, slot (i*7) mod nodes
    const step = Math.max(1, Math.floor(plan.rackCount / NADDR));
    for (let i = 0; i < NADDR; i++) {
      const rack = plan.rackAt((i * step) % plan.rackCount);
      const n = plan.nodeAt(rack.index, (i * 7) % rack.nodeCount);
      if (n) out.push(n);
    }
  }
  return { plan, targets: out.map((n) => ({ name: n.name, address: formatAddress(n.address) })) };
}

/** The server and its worker processes (--workers). */
function tree(pid) {
  const out = [pid];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      if (ppid === pid) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** RSS now and peak, summed over the server's processes (MB). */
function status(pid) {
  let rss = 0;
  let hwm = 0;
  for (const p of tree(pid)) {
    const s = readFileSync(`/proc/${p}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0) / 1024;
    rss += kb('VmRSS');
    hwm += kb('VmHWM');
  }
  return { rss, hwm };
}

async function bench(stack) {
  const { plan, targets } = targetsOf(stack);
  const ns = `f6srv-${process.pid}-${stack}`;
  spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  ip(['netns', 'add', ns]);
  namespaces.push(ns);
  ip(['-n', ns, 'link', 'set', 'lo', 'up']);
  ip(['-n', ns, '-batch', '-'], targets.map((t) => `addr add ${t.address}/128 dev lo nodad`).join('\n') + '\n');
  const port = 18000 + (process.pid % 1000);
  const server = spawn('ip', ['netns', 'exec', ns, process.execPath, join(ROOT, 'bin', 'flat6.js'), 'serve', '--stack', stack, '--listen', `[::1]:${port}`, '--secrets', secrets, '--workers', values.workers], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  server.stderr.on('data', (c) => (log += c));
  await new Promise((ok, fail) => {
    server.stdout.on('data', (c) => (String(c).includes('serving') ? ok() : null));
    server.on('exit', (code) => fail(new Error(`serve exited ${code}: ${log}`)));
  });
  const idle = status(server.pid);
  const cpuOf = (pid) =>
    tree(pid).reduce((a, p) => {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
      return a + (Number(f[11]) + Number(f[12])) / 100; // utime + stime, clock ticks of 10 ms
    }, 0);
  const run = (requests) => {
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, fileURLToPath(import.meta.url), '--client', JSON.stringify({ port, requests, concurrency: CONC, format: values.format, targets })], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`load generator: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  run(Math.min(2000, REQUESTS)); // warm-up
  const c0 = cpuOf(server.pid);
  const r = run(REQUESTS);
  r.serverCpuUs = ((cpuOf(server.pid) - c0) / REQUESTS) * 1e6;
  const after = status(server.pid);
  server.kill('SIGTERM');
  await new Promise((ok) => server.on('exit', ok));
  return { stack, nodes: plan.nodeCount, addresses: targets.length, idle, after, ...r };
}

const rows = [];
for (const stack of ['metal', 'scale']) rows.push(await bench(stack));

console.log(`flat6 serve --workers ${values.workers}: ${REQUESTS} requests per stack after ${Math.min(2000, REQUESTS)} warm-up, ${CONC} concurrent connections, one TCP connection per request, GET /v1/hosts/<own name>.${values.format} from the node's own address`);
console.log(`node ${process.version}, ${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}; server and load generator share the machine`);
console.log('');
console.log('stack   nodes       addresses  req/s    p50 ms  p99 ms  max ms  statuses          body MB  RSS idle MB  RSS after MB  peak RSS MB');
for (const r of rows) {
  console.log(
    [
      r.stack.padEnd(7),
      r.nodes.toLocaleString('en-US').padEnd(11),
      String(r.addresses).padEnd(10),
      Math.round(r.rps).toString().padEnd(8),
      r.p50.toFixed(2).padEnd(7),
      r.p99.toFixed(2).padEnd(7),
      r.max.toFixed(1).padEnd(7),
      JSON.stringify(r.status).padEnd(17),
      (r.bytes / 1e6).toFixed(1).padEnd(8),
      r.idle.rss.toFixed(0).padEnd(12),
      r.after.rss.toFixed(0).padEnd(13),
      r.after.hwm.toFixed(0),
    ].join(' '),
  );
}
const [m, s] = rows;
console.log('');
console.log(`scale/metal: req/s ${(s.rps / m.rps).toFixed(2)}, p50 ${(s.p50 / m.p50).toFixed(2)}, p99 ${(s.p99 / m.p99).toFixed(2)}, peak RSS ${(s.after.hwm / m.after.hwm).toFixed(2)} for ${Math.round(s.nodes / m.nodes).toLocaleString('en-US')}x the nodes`);
console.log(`server CPU per request: ${rows.map((r) => `${r.stack} ${r.serverCpuUs.toFixed(0)} µs (${Math.round(1e6 / r.serverCpuUs)} requests/s per core)`).join(', ')}; load generator ${rows.map((r) => `${r.clientCpuUs.toFixed(0)} µs`).join(', ')}`);
console.log(`load average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')} (other work on the machine shares its 2 CPUs)`);
console.log(`at ${Math.round(s.rps)} tarballs/s, 1,048,576 hosts booting at once are served in ${(1048576 / s.rps / 60).toFixed(1)} min`);
