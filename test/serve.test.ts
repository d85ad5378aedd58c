/**
 * `flat6 serve` for real, as root: two network namespaces (f6srv-<pid>-a,
 * f6srv-<pid>-b) joined to this process's namespace by veths, with the
 * planned addresses of nodes of a copy of the multirack stack moved to
 * 2001:db8:f6a0::/56 (its own range, so nothing else on the machine is
 * touched). Each host's secrets carry a distinct token and key (per-host
 * markers), so a response can be checked for every other host's secret.
 * Everything is removed afterwards, also after a failure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse } from 'yaml';
import type { ClusterPlan, NodePlan } from '../src/plan/plan.js';
import type { Secrets } from '../src/render/secrets.js';
import { TemplateSet } from '../src/render/templates.js';
import { parseAddress } from '../src/core/ip.js';
import { hexGroups, nodeByAddress, sourceAddress } from '../src/serve/address.js';
import { createServe, type Served } from '../src/serve/server.js';
import { cleanupTempDirs, cli, planText, readTree, stackText, tempDir, tool, writeStack } from './helpers.js';

const ROOT_USER = process.getuid?.() === 0;
const TEXT = stackText('multirack').replaceAll('2001:db8:100:', '2001:db8:f6a0:');
const NS_A = `f6srv-${process.pid}-a`;
const NS_B = `f6srv-${process.pid}-b`;
const V = `f6s${process.pid % 1e7}`;
const SERVER = '2001:db8:f6a0:1::1';
const A = '2001:db8:f6a0:1::10'; // r1-n0
const A2 = '2001:db8:f6a0:1::11'; // r1-n1, A's rack neighbour
const NOT_NODE = '2001:db8:f6a0:1::ff'; // in r1's segment, no slot
const B = '2001:db8:f6a0:2::12'; // r2-n2
const OUTSIDE = '2001:db8:f6ff::5'; // outside the node range

/** Distinct per host: a bootstrap token and a certificate key no other host has. */
function secretsOf(node: NodePlan): Secrets {
  const h = createHash('sha256').update(node.name).digest('hex');
  return { bootstrapToken: `h${String(node.rack.index).padStart(2, '0')}s${String(node.slot).padStart(2, '0')}.${h.slice(0, 16)}`, certificateKey: h, caCertHashes: [] };
}

function ip(...args: string[]): void {
  const r = spawnSync(tool('ip'), args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}
function teardown(): void {
  for (const ns of [NS_A, NS_B]) spawnSync(tool('ip'), ['netns', 'del', ns]);
  for (const v of [`${V}ar`, `${V}br`]) spawnSync(tool('ip'), ['link', 'del', v], { stdio: 'ignore' });
}

interface Req {
  from: string;
  path: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}
interface Res {
  status: number;
  body: Buffer;
  type?: string;
}

/** Node client run inside a namespace, bound to `from`; prints one JSON line per request. */
const CLIENT = `
const http = require('node:http');
const reqs = JSON.parse(process.argv[1]);
(async () => {
  for (const r of reqs) {
    const out = await new Promise((res) => {
      const q = http.request({ host: process.argv[2], port: Number(process.argv[3]), path: r.path, method: r.method || 'GET', localAddress: r.from, headers: r.headers || {}, family: 6 }, (resp) => {
        const parts = [];
        resp.on('data', (c) => parts.push(c));
        resp.on('end', () => res({ status: resp.statusCode, type: resp.headers['content-type'], body: Buffer.concat(parts).toString('base64') }));
      });
      q.setTimeout(5000, () => q.destroy(new Error('no answer in 5 s')));
      q.on('error', (e) => res({ status: 0, type: String(e), body: '' }));
      q.end(r.body);
    });
    console.log(JSON.stringify(out));
  }
})();`;

let served: Served | undefined;
let port = 0;
let plan: ClusterPlan;
let stackFile = '';
let work = '';

/**
 * The connected routes of this namespace's veth ends, put back if something
 * else on the machine removed them (seen on a shared test machine: SYNs from
 * the namespaces then get no answer and the test hangs).
 */
function ensureRoutes(): void {
  ip('-6', 'route', 'replace', '2001:db8:f6a0:1::/64', 'dev', `${V}ar`);
  ip('-6', 'route', 'replace', '2001:db8:f6a0:2::/64', 'dev', `${V}br`);
  ip('-6', 'route', 'replace', '2001:db8:f6ff::/64', 'dev', `${V}br`);
}

/** fetchOnce, and requests that got no connection at all tried again (twice) after ensureRoutes. */
async function fetchFrom(ns: string, reqs: Req[]): Promise<Res[]> {
  const out = await fetchOnce(ns, reqs);
  for (let attempt = 0; attempt < 2; attempt++) {
    const lost = out.map((r, i) => (r.status === 0 ? i : -1)).filter((i) => i >= 0);
    if (lost.length === 0) break;
    const again = await fetchOnce(ns, lost.map((i) => reqs[i]!));
    lost.forEach((i, k) => (out[i] = again[k]!));
  }
  return out;
}

function fetchOnce(ns: string, reqs: Req[]): Promise<Res[]> {
  ensureRoutes();
  return new Promise((resolve, reject) => {
    // async spawn: the server answers in this very process
    import('node:child_process').then(({ spawn }) => {
      const p = spawn(tool('ip'), ['netns', 'exec', ns, process.execPath, '-e', CLIENT, JSON.stringify(reqs), SERVER, String(port)]);
      let out = '';
      let err = '';
      p.stdout.on('data', (c: Buffer) => (out += c.toString()));
      p.stderr.on('data', (c: Buffer) => (err += c.toString()));
      p.on('close', (code) => {
        if (code !== 0) { reject(new Error(`client in ${ns} exited ${code}: ${err}`)); return; }
        resolve(out.trim().split('\n').map((l) => {
          const j = JSON.parse(l) as { status: number; type?: string; body: string };
          return { status: j.status, type: j.type, body: Buffer.from(j.body, 'base64') };
        }));
      });
    }, reject);
  });
}

const nsOf = (addr: string): string => (addr.startsWith('2001:db8:f6a0:1:') ? NS_A : NS_B);
const get = async (from: string, path: string, extra: Partial<Req> = {}): Promise<Res> => (await fetchFrom(nsOf(from), [{ from, path, ...extra }]))[0]!;

/** Extract a tar with the system tar; the tree as readTree sees it. */
function untar(buf: Buffer): ReturnType<typeof readTree> {
  const dir = tempDir('untar');
  const f = join(tempDir('tarball'), 'host.tar');
  writeFileSync(f, buf);
  const r = spawnSync('tar', ['-xpf', f, '-C', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar: ${r.stderr}`);
  return readTree(dir);
}

/** `flat6 render --host NAME` with that host's own secrets: hosts/NAME/... of it. */
async function renderedHost(node: NodePlan): Promise<ReturnType<typeof readTree>> {
  const s = secretsOf(node);
  const sf = join(work, `secrets-${node.name}.yaml`);
  writeFileSync(sf, `bootstrapToken: "${s.bootstrapToken}"\ncertificateKey: "${s.certificateKey}"\n`, { mode: 0o600 });
  const out = join(work, `out-${node.name}`);
  const r = await cli(['render', '--stack', stackFile, '--host', node.name, '--out', out, '--secrets', sf]);
  if (r.code !== 0) throw new Error(r.stderr);
  const tree = readTree(out);
  const prefix = `hosts/${node.name}/`;
  return new Map([...tree].filter(([p]) => p.startsWith(prefix)).map(([p, f]) => [p.slice(prefix.length), f]));
}

const secretsOfAll = (): Array<{ name: string; token: string; key: string }> => [...plan.nodes()].map((n) => ({ name: n.name, token: secretsOf(n).bootstrapToken, key: secretsOf(n).certificateKey }));

/** No secret of any host but `owner` appears in `body`. */
function onlyOwnSecrets(body: Buffer, owner: string | undefined): void {
  const text = body.toString('latin1');
  for (const s of secretsOfAll()) {
    if (s.name === owner) continue;
    expect(text.includes(s.token), `token of ${s.name} in a response for ${owner ?? 'nobody'}`).toBe(false);
    expect(text.includes(s.key), `certificate key of ${s.name} in a response for ${owner ?? 'nobody'}`).toBe(false);
  }
}

describe.skipIf(!ROOT_USER)('flat6 serve in network namespaces', () => {
  beforeAll(async () => {
    work = tempDir('serve');
    mkdirSync(work, { recursive: true });
    stackFile = writeStack('srvtest', TEXT);
    plan = planText(TEXT, stackFile);
    teardown();
    ip('netns', 'add', NS_A);
    ip('netns', 'add', NS_B);
    for (const [ns, side] of [[NS_A, 'a'], [NS_B, 'b']] as const) {
      ip('link', 'add', `${V}${side}r`, 'type', 'veth', 'peer', 'name', `${V}${side}n`);
      ip('link', 'set', `${V}${side}n`, 'netns', ns);
      ip('link', 'set', `${V}${side}r`, 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'link', 'set', `${V}${side}n`, 'up');
    }
    ip('addr', 'add', `${SERVER}/64`, 'dev', `${V}ar`, 'nodad');
    ip('addr', 'add', '2001:db8:f6a0:2::1/64', 'dev', `${V}br`, 'nodad');
    ip('addr', 'add', '2001:db8:f6ff::1/64', 'dev', `${V}br`, 'nodad');
    for (const a of [A, A2, NOT_NODE]) ip('-n', NS_A, 'addr', 'add', `${a}/64`, 'dev', `${V}an`, 'nodad');
    for (const a of [B, OUTSIDE]) ip('-n', NS_B, 'addr', 'add', `${a}/64`, 'dev', `${V}bn`, 'nodad');
    ip('-n', NS_B, 'route', 'add', '2001:db8:f6a0:1::/64', 'via', '2001:db8:f6a0:2::1');
    const logs: string[] = [];
    served = createServe({
      ctx: { plan, templates: new TemplateSet(), secrets: { bootstrapToken: 'zzzzzz.zzzzzzzzzzzzzzzz', certificateKey: 'f'.repeat(64), caCertHashes: [] } },
      secretsFor: secretsOf,
      limits: { headersTimeout: 1500, requestTimeout: 3000 },
      log: (l) => logs.push(l),
    });
    await new Promise<void>((ok) => served!.server.listen({ host: SERVER, port: 0, ipv6Only: true }, ok));
    port = (served.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await served?.shutdown(1000);
    teardown();
    cleanupTempDirs();
  });

  it('maps addresses to nodes in O(1): planned addresses only', () => {
    expect(nodeByAddress(plan, sourceAddress(A)!)?.name).toBe('r1-n0');
    expect(nodeByAddress(plan, sourceAddress(B)!)?.name).toBe('r2-n2');
    expect(nodeByAddress(plan, sourceAddress(NOT_NODE)!)).toBeUndefined();
    expect(nodeByAddress(plan, sourceAddress(OUTSIDE)!)).toBeUndefined();
    expect(nodeByAddress(plan, sourceAddress('2001:db8:f6a0:3::11')!)?.name).toBe('gpu2');
    expect(sourceAddress('::ffff:192.0.2.1')).toBeUndefined();
    for (const a of [A, B, '::1', '::', '2001:db8::', 'fe80::1:2:3:4', '1:2:3:4:5:6:7:8', '1::8', '2001:DB8:0:0:1:0:0:1', '1:2:3:4:5:6:7::']) {
      expect(hexGroups(a), a).toBe(parseAddress(a));
    }
    for (const bad of ['1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', 'g::1', '1:2:3:4:5:6:7', ':1:2:3:4:5:6:7', '::1.2.3.4']) expect(hexGroups(bad), bad).toBeUndefined();
    expect(sourceAddress('fe80::1%eth0')).toBeUndefined();
  });

  it('hosts fetch their own files over IPv6: the tree of render --host, byte for byte, modes kept', async () => {
    for (const [addr, name] of [[A, 'r1-n0'], [A2, 'r1-n1'], [B, 'r2-n2']] as const) {
      const node = plan.findNode(name)!;
      const [tar, tgz, cc] = await fetchFrom(nsOf(addr), [
        { from: addr, path: `/v1/hosts/${name}.tar` },
        { from: addr, path: `/v1/hosts/${name}.tar.gz` },
        { from: addr, path: `/v1/hosts/${name}/cloud-config` },
      ]);
      expect(tar!.status).toBe(200);
      expect(tar!.type).toBe('application/x-tar');
      const want = await renderedHost(node);
      const got = untar(tar!.body);
      expect([...got.keys()]).toEqual([...want.keys()]);
      for (const [p, f] of want) {
        expect(got.get(p)!.content.equals(f.content), p).toBe(true);
        expect(got.get(p)!.mode, p).toBe(f.mode);
      }
      expect(tgz!.status).toBe(200);
      expect(gunzipSync(tgz!.body).equals(tar!.body)).toBe(true);
      expect(cc!.status).toBe(200);
      const doc = parse(cc!.body.toString()) as { write_files: Array<{ path: string; permissions: string; encoding: string; content: string }> };
      expect(cc!.body.toString().startsWith('#cloud-config\n')).toBe(true);
      expect(doc.write_files.map((w) => w.path.slice(1)).sort()).toEqual([...want.keys()].sort());
      for (const w of doc.write_files) {
        const f = want.get(w.path.slice(1))!;
        expect(Buffer.from(w.content, 'base64').equals(f.content)).toBe(true);
        expect(parseInt(w.permissions, 8)).toBe(f.mode);
      }
      for (const r of [tar!, tgz!, cc!]) onlyOwnSecrets(r === tgz ? gunzipSync(r.body) : r.body, name);
      expect(tar!.body.toString('latin1')).toContain(secretsOf(node).bootstrapToken);
    }
  }, 180_000);

  it("refuses a neighbour's files, non-node and outside addresses with 403, logged and counted", async () => {
    const before = { other: served!.metrics.refusalsOf('other-host'), none: served!.metrics.refusalsOf('not-a-node') };
    const cases: Array<[string, string, string]> = [
      [A2, '/v1/hosts/r1-n0.tar', 'other-host'],
      [A2, '/v1/hosts/r1-n0/cloud-config', 'other-host'],
      [B, '/v1/hosts/r1-n0.tar.gz', 'other-host'],
      [A, '/v1/hosts/r2-n2.tar', 'other-host'],
      [NOT_NODE, '/v1/hosts/r1-n0.tar', 'not-a-node'],
      [OUTSIDE, '/v1/hosts/r1-n0.tar', 'not-a-node'],
      [OUTSIDE, '/v1/hosts/r2-n2.tar', 'not-a-node'],
    ];
    for (const [from, path] of cases) {
      const r = await get(from, path);
      expect(r.status, `${from} ${path}`).toBe(403);
      onlyOwnSecrets(r.body, undefined);
    }
    expect(served!.metrics.refusalsOf('other-host') - before.other).toBe(4);
    expect(served!.metrics.refusalsOf('not-a-node') - before.none).toBe(3);
    const m = await get(A, '/metrics');
    expect(m.body.toString()).toMatch(/flat6_serve_refusals_total\{reason="other-host"\} \d+/);
  });

  it('bad requests get clear statuses and the server keeps serving', async () => {
    const bad: Array<[Req, number]> = [
      [{ from: A, path: '/v1/hosts/nosuch.tar' }, 404],
      [{ from: A, path: '/v1/hosts/../../etc/passwd' }, 400],
      [{ from: A, path: '/v1/hosts/r1-n0%2f..%2f..%2fetc%2fshadow.tar' }, 400],
      [{ from: A, path: '/v1/hosts/%2e%2e%2fr1-n0.tar' }, 400],
      [{ from: A, path: '/v1/hosts/r1-n0%2Etar' }, 400],
      [{ from: A, path: '/v1/hosts/r1-n0/../r1-n1.tar' }, 400],
      [{ from: A, path: '/v1/hosts/R1-N0.tar' }, 400],
      [{ from: A, path: '/etc/passwd' }, 404],
      [{ from: A, path: `/v1/hosts/${'a'.repeat(300)}.tar` }, 414],
      [{ from: A, path: '/v1/hosts/r1-n0.tar', method: 'POST', body: 'x' }, 405],
      [{ from: A, path: '/v1/hosts/r1-n0.tar', headers: { 'content-length': '3' }, body: 'abc' }, 413],
      [{ from: A, path: '/v1/hosts/r1-n0.tar', headers: { 'x-big': 'y'.repeat(16_384) } }, 431],
    ];
    const res = await fetchFrom(NS_A, bad.map(([r]) => r));
    res.forEach((r, i) => expect(r.status, `${bad[i]![0].method ?? 'GET'} ${bad[i]![0].path.slice(0, 60)}`).toBe(bad[i]![1]));
    for (const r of res) onlyOwnSecrets(r.body, 'r1-n0');
    expect((await get(A, '/v1/hosts/r1-n0.tar')).status).toBe(200);
  });

  it('a slow client gets 408 while others are served', async () => {
    const slow = `
const net = require('node:net');
const s = net.connect({ host: process.argv[1], port: Number(process.argv[2]), localAddress: process.argv[3] }, () => s.write('GET /v1/hosts/r1-n0.tar HTTP/1.1\\r\\nhost: x\\r\\n'));
let got = '';
s.on('data', (c) => (got += c));
s.on('close', () => { console.log(JSON.stringify(got.split('\\r\\n')[0])); process.exit(0); });
setTimeout(() => { console.log('"still open"'); process.exit(0); }, 8000);`;
    ensureRoutes();
    const t0 = Date.now();
    const p = new Promise<string>((resolve) => {
      void import('node:child_process').then(({ spawn }) => {
        const c = spawn(tool('ip'), ['netns', 'exec', NS_A, process.execPath, '-e', slow, SERVER, String(port), A]);
        let out = '';
        c.stdout.on('data', (d: Buffer) => (out += d.toString()));
        c.on('close', () => resolve(out.trim()));
      });
    });
    await new Promise((r) => setTimeout(r, 300));
    expect((await get(A2, '/v1/hosts/r1-n1.tar')).status).toBe(200);
    expect(await p).toBe('"HTTP/1.1 408 Request Timeout"');
    expect(Date.now() - t0).toBeLessThan(7500); // headers timeout 1.5 s + Node's 1 s check interval, with room for a loaded machine
    expect((await get(A, '/healthz')).status).toBe(200);
  });

  it('GET /v1/plan: the summary, no secrets', async () => {
    const r = await get(OUTSIDE, '/v1/plan');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString()).cluster).toBe('multirack');
    onlyOwnSecrets(r.body, undefined);
  });
});
