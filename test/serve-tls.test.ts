/**
 * flat6 serve behind a trusted reverse proxy (X-Forwarded-For) and with
 * mutual TLS, on [::1] with certificates made by openssl for the test: the
 * client is the last X-Forwarded-For entry only when the peer is a trusted
 * proxy, and a client certificate must name the node it fetches for.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { parseAddress } from '../src/core/ip.js';
import { TemplateSet } from '../src/render/templates.js';
import { createServe, type Served } from '../src/serve/server.js';
import { cleanupTempDirs, planBundled, tempDir, TEST_SECRETS } from './helpers.js';

const plan = planBundled('multirack');
const ctx = { plan, templates: new TemplateSet(), secrets: { bootstrapToken: TEST_SECRETS.bootstrapToken, certificateKey: TEST_SECRETS.certificateKey, caCertHashes: [] } };
const N0 = '2001:db8:100:1::10'; // r1-n0
const N1 = '2001:db8:100:1::11'; // r1-n1
let dir = '';
const pem = (n: string): Buffer => readFileSync(join(dir, n));

function openssl(...args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

function cert(name: string, ext: string): void {
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-subj', `/CN=${name}`, '-out', `${name}.csr`);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', `${name}.pem`, '-extfile', `${name}.ext`);
}

interface Res {
  status: number;
  body: string;
  error?: string;
}

function get(port: number, path: string, opts: { tls?: boolean; client?: string; xff?: string } = {}): Promise<Res> {
  return new Promise((resolve) => {
    const o = { host: '::1', port, path, headers: opts.xff ? { 'x-forwarded-for': opts.xff } : {} };
    const done = (res: import('node:http').IncomingMessage): void => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('latin1')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    };
    const req = opts.tls
      ? httpsRequest({ ...o, ca: pem('ca.pem'), servername: 'localhost', ...(opts.client ? { cert: pem(`${opts.client}.pem`), key: pem(`${opts.client}.key`) } : {}) }, done)
      : httpRequest(o, done);
    req.on('error', (e) => resolve({ status: 0, body: '', error: e.message }));
    req.end();
  });
}

const servers: Served[] = [];
async function start(opts: Partial<Parameters<typeof createServe>[0]>): Promise<number> {
  const s = createServe({ ctx, ...opts });
  servers.push(s);
  await new Promise<void>((ok) => s.server.listen({ host: '::1', port: 0, ipv6Only: true }, ok));
  return (s.server.address() as { port: number }).port;
}

beforeAll(() => {
  dir = tempDir('tls');
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=flat6 test CA', '-days', '2');
  cert('localhost', 'subjectAltName=DNS:localhost,IP:::1\n');
  cert('r1-n0', 'subjectAltName=DNS:r1-n0\nextendedKeyUsage=clientAuth\n');
  cert('r1-n1', 'subjectAltName=DNS:r1-n1\nextendedKeyUsage=clientAuth\n');
});
afterAll(async () => {
  for (const s of servers) await s.shutdown(500);
  cleanupTempDirs();
});

describe('flat6 serve: trusted proxies and mutual TLS', () => {
  it('X-Forwarded-For counts only from a trusted proxy, and only its last entry', async () => {
    const trusting = await start({ trustedProxies: [parseAddress('::1')] });
    const plain = await start({});
    expect((await get(trusting, '/v1/hosts/r1-n0.tar', { xff: N0 })).status).toBe(200);
    expect((await get(trusting, '/v1/hosts/r1-n0.tar', { xff: `2001:db8:ffff::1, ${N0}` })).status).toBe(200);
    expect((await get(trusting, '/v1/hosts/r1-n0.tar', { xff: `${N0}, ${N1}` })).status).toBe(403);
    expect((await get(trusting, '/v1/hosts/r1-n0.tar', { xff: `${N0}, 192.0.2.1` })).status).toBe(403);
    expect((await get(trusting, '/v1/hosts/r1-n0.tar')).status).toBe(403);
    const spoof = await get(plain, '/v1/hosts/r1-n0.tar', { xff: N0 });
    expect(spoof.status).toBe(403);
    expect(spoof.body).not.toContain(TEST_SECRETS.bootstrapToken);
  });

  it('with --client-ca, the certificate must name the node the address belongs to', async () => {
    const port = await start({ trustedProxies: [parseAddress('::1')], tls: { cert: pem('localhost.pem'), key: pem('localhost.key'), clientCa: pem('ca.pem') } });
    const ok = await get(port, '/v1/hosts/r1-n0.tar', { tls: true, client: 'r1-n0', xff: N0 });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain(TEST_SECRETS.bootstrapToken);
    const wrong = await get(port, '/v1/hosts/r1-n0.tar', { tls: true, client: 'r1-n1', xff: N0 });
    expect(wrong.status).toBe(403);
    expect(wrong.body).not.toContain(TEST_SECRETS.bootstrapToken);
    const none = await get(port, '/v1/hosts/r1-n0.tar', { tls: true, xff: N0 });
    expect(none.status).toBe(0); // the handshake fails without a client certificate
    expect((await get(port, '/healthz', { tls: true, client: 'r1-n1' })).status).toBe(200);
  });
});
