#!/usr/bin/env node
// Throughput and memory of `flat6 audit` on generated dumps of 1,000, 10,000
// and 100,000 objects, in three forms: multi-document YAML (helm template
// style), one `kubectl get -o yaml` List document, and a `kubectl get -o json`
// List. Objects are a mix of Deployments, Services, ConfigMaps (nginx),
// NetworkPolicies, EndpointSlices and Secrets; every third object is written
// with findings (--bad-every 3, about 50,000 findings per 100,000 objects), or
// every Nth with --bad-every N (1000 for a nearly clean dump).
// Each audit runs in its own process, so peak RSS
// (process.resourceUsage().maxRSS) is that audit's alone. Uses the compiled
// dist/ (run `npm run build` first). Numbers are printed, never asserted.
//
//   node bench/audit.mjs [--sizes 1000,10000,100000] [--forms yaml,list,json] [--bad-every 3]
//
// Memory: the input is streamed (one document or list item at a time), so
// peak RSS levels off as dumps grow (about 150 MB for a nearly clean JSON
// dump of 100,000 or 300,000 objects, mostly Node's read buffers awaiting
// collection); what grows is the findings held for the report, about 2 KB each.
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(ROOT, 'dist', 'audit', 'run.js'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000,100000' },
    forms: { type: 'string', default: 'yaml,list,json' },
    'bad-every': { type: 'string', default: '3' },
    child: { type: 'string' },
  },
});

if (values.child) {
  // One audit, in this process: print what it did and what it cost.
  const { runAudit } = await import('../dist/audit/run.js');
  const t0 = process.hrtime.bigint();
  const r = await runAudit({ paths: [values.child], cwd: process.cwd(), env: {}, stdin: process.stdin });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const { maxRSS } = process.resourceUsage();
  process.stdout.write(JSON.stringify({ objects: r.objects, findings: r.findings.length, errors: r.errors.length, seconds, maxRSSKiB: maxRSS }));
  process.exit(0);
}

const BAD_EVERY = Number(values['bad-every']);

function object(i) {
  const ns = `team-${i % 50}`;
  const bad = i % BAD_EVERY === 0;
  switch (i % 6) {
    case 0:
    case 1:
      return {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: `app-${i}`, namespace: ns, uid: `uid-${i}`, labels: { app: `app-${i}`, tier: 'backend' } },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: `app-${i}` } },
          template: {
            metadata: { labels: { app: `app-${i}` } },
            spec: {
              containers: [
                {
                  name: 'app',
                  image: `registry.example.com/app:1.${i % 30}.0`,
                  args: [bad ? '--bind-address=0.0.0.0' : '--bind-address=::', '--port=8080', '--log-level=info'],
                  env: [
                    { name: 'DB_HOST', value: bad ? '10.20.0.5' : `db.${ns}.svc.cluster.local` },
                    { name: 'APP_VERSION', value: `1.${i % 30}.0` },
                  ],
                  ports: [{ containerPort: 8080 }],
                  readinessProbe: { httpGet: { path: '/healthz', port: 8080 } },
                  resources: { requests: { cpu: '100m', memory: '128Mi' } },
                },
              ],
            },
          },
        },
      };
    case 2:
      return {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: `svc-${i}`, namespace: ns },
        spec: { ipFamilyPolicy: bad ? 'RequireDualStack' : 'SingleStack', ipFamilies: bad ? ['IPv4', 'IPv6'] : ['IPv6'], selector: { app: `app-${i - 2}` }, ports: [{ port: 80, targetPort: 8080 }] },
      };
    case 3:
      return {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `nginx-${i}`, namespace: ns },
        data: {
          'default.conf': `server {\n    listen 80;\n${bad ? '' : '    listen [::]:80;\n'}    server_name app-${i}.example.com;\n    location / {\n        proxy_pass http://app-${i}.${ns}.svc.cluster.local:8080;\n    }\n}\n`,
          'app.properties': `app.name=app-${i}\nrelease.version=1.2.3.4\ncache.ttl=30\n`,
        },
      };
    case 4:
      return {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: `np-${i}`, namespace: ns },
        spec: { podSelector: { matchLabels: { app: `app-${i}` } }, ingress: [{ from: [{ ipBlock: { cidr: bad ? '10.0.0.0/8' : '2001:db8::/32' } }] }] },
      };
    default:
      return i % 12 === 5
        ? { apiVersion: 'v1', kind: 'Secret', metadata: { name: `secret-${i}`, namespace: ns }, type: 'Opaque', data: { 'app.env': Buffer.from(`DB_HOST=${bad ? '10.20.0.5' : 'db'}\nPASSWORD=x${i}\n`).toString('base64') } }
        : {
            apiVersion: 'discovery.k8s.io/v1',
            kind: 'EndpointSlice',
            metadata: { name: `svc-${i}-abcde`, namespace: ns, labels: { 'kubernetes.io/service-name': `svc-${i}` } },
            addressType: bad ? 'IPv4' : 'IPv6',
            endpoints: [{ addresses: [bad ? '10.244.1.5' : '2001:db8:42:1::5'], conditions: { ready: true } }],
            ports: [{ port: 8080 }],
          };
  }
}

/** Minimal YAML for these objects (block style, strings JSON-quoted): fast enough for 100,000 objects. */
function yaml(v, indent) {
  const pad = ' '.repeat(indent);
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'object' && x !== null ? `${pad}-${yaml(x, indent + 2).slice(indent + 1)}` : `${pad}- ${JSON.stringify(x)}\n`)).join('');
  return Object.entries(v)
    .map(([k, x]) => {
      const key = /^[A-Za-z_][\w.-]*$/.test(k) ? k : JSON.stringify(k);
      if (typeof x === 'string' && x.includes('\n')) return `${pad}${key}: |\n${x.replace(/\n$/, '').split('\n').map((l) => `${pad}  ${l}`).join('\n')}\n`;
      if (typeof x !== 'object' || x === null) return `${pad}${key}: ${JSON.stringify(x)}\n`;
      if (Array.isArray(x) && x.length === 0) return `${pad}${key}: []\n`;
      return `${pad}${key}:\n${yaml(x, Array.isArray(x) ? indent : indent + 2)}`;
    })
    .join('');
}

async function generate(file, form, n) {
  const out = createWriteStream(file);
  const write = (s) => (out.write(s) ? undefined : new Promise((r) => out.once('drain', r)));
  if (form === 'list') await write('apiVersion: v1\nitems:\n');
  if (form === 'json') await write('{\n    "apiVersion": "v1",\n    "items": [\n');
  for (let i = 0; i < n; i++) {
    const o = object(i);
    if (form === 'yaml') await write(`---\n${yaml(o, 0)}`);
    else if (form === 'list') await write(`-${yaml(o, 2).slice(1)}`);
    else await write(`${i ? ',\n' : ''}${JSON.stringify(o, null, 4).replace(/^/gm, '        ')}`);
  }
  if (form === 'list') await write('kind: List\nmetadata:\n  resourceVersion: ""\n');
  if (form === 'json') await write('\n    ],\n    "kind": "List",\n    "metadata": {\n        "resourceVersion": ""\n    }\n}\n');
  await new Promise((r) => out.end(r));
}

const sizes = values.sizes.split(',').map(Number);
const forms = values.forms.split(',');
const dir = mkdtempSync(join(tmpdir(), 'flat6-bench-audit-'));
console.log(`flat6 audit on generated dumps, 1 object in ${BAD_EVERY} with findings (node ${process.version}, ${cpus().length} CPU(s): ${cpus()[0]?.model ?? '?'})`);
console.log(`${'form'.padEnd(6)} ${'objects'.padStart(8)} ${'file MB'.padStart(8)} ${'findings'.padStart(9)} ${'seconds'.padStart(8)} ${'objects/s'.padStart(10)} ${'peak RSS MB'.padStart(12)}`);
try {
  for (const n of sizes) {
    for (const form of forms) {
      const file = join(dir, `dump-${n}.${form === 'json' ? 'json' : 'yaml'}`);
      await generate(file, form, n);
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', file], { encoding: 'utf8', maxBuffer: 1 << 20 });
      if (r.status !== 0) {
        console.error(r.stderr);
        process.exit(1);
      }
      const s = JSON.parse(r.stdout);
      if (s.objects !== n || s.errors) throw new Error(`audit of ${file}: ${s.objects} objects, ${s.errors} errors`);
      const mb = statSync(file).size / 1e6;
      console.log(`${form.padEnd(6)} ${String(n).padStart(8)} ${mb.toFixed(1).padStart(8)} ${String(s.findings).padStart(9)} ${s.seconds.toFixed(2).padStart(8)} ${Math.round(n / s.seconds).toString().padStart(10)} ${(s.maxRSSKiB / 1024).toFixed(0).padStart(12)}`);
      rmSync(file);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
