/**
 * The two small programs the failover lab runs inside network namespaces, as
 * CommonJS sources for `node -e SOURCE CONFIG_JSON`. They are sources rather
 * than modules so the lab runs the same way from src/ (tests) and dist/ (CLI).
 */

/** Parameters of the stand-in API server (process.argv[1] as JSON). */
export interface StandInConfig {
  name: string;
  host: string;
  port: number;
  key: string;
  cert: string;
}

/**
 * A stand-in for kube-apiserver: HTTPS on [host]:port, answering GET /healthz,
 * /readyz and /livez with 200 and its own name, everything else with 404.
 * Prints "listening" once the socket is bound. SIGTERM ends it at once, which
 * resets its connections as a crashed API server would.
 */
export const STAND_IN_SOURCE = String.raw`
'use strict';
const https = require('node:https');
const fs = require('node:fs');
const cfg = JSON.parse(process.argv[1]);
const server = https.createServer({ key: fs.readFileSync(cfg.key), cert: fs.readFileSync(cfg.cert) }, (req, res) => {
  const path = (req.url || '').split('?')[0];
  const health = path === '/healthz' || path === '/readyz' || path === '/livez';
  res.writeHead(health && req.method === 'GET' ? 200 : 404, { 'content-type': 'text/plain', connection: 'close' });
  res.end(health ? cfg.name + '\n' : 'not found\n');
});
server.on('error', (e) => {
  process.stderr.write('stand-in ' + cfg.name + ': ' + e.message + '\n');
  process.exit(1);
});
server.listen({ host: cfg.host, port: cfg.port, ipv6Only: true }, () => {
  process.stdout.write('listening [' + cfg.host + ']:' + cfg.port + '\n');
});
`;

/** Parameters of the client poller (process.argv[1] as JSON). */
export interface PollerConfig {
  host: string;
  port: number;
  path: string;
  /** PEM file of the certificate the API must present (verified, with the VIP as an IP SAN) */
  ca: string;
  intervalMs: number;
  timeoutMs: number;
}

/** One request of the poller: start and end in ms since the epoch (sub-ms resolution). */
export interface Probe {
  id: number;
  s: number;
  e: number;
  ok: boolean;
  /** body of a 200 answer: the name of the API server that answered */
  who?: string;
  err?: string;
}

/**
 * The client: every intervalMs it starts an independent GET https://[host]:port/path
 * on a new connection (so each request tests the path afresh), verifies the
 * certificate, gives up after timeoutMs, and prints one JSON line per request.
 */
export const POLLER_SOURCE = String.raw`
'use strict';
const https = require('node:https');
const fs = require('node:fs');
const cfg = JSON.parse(process.argv[1]);
const ca = fs.readFileSync(cfg.ca);
const now = () => performance.timeOrigin + performance.now();
let seq = 0;
function probe() {
  const id = seq++;
  const s = now();
  let done = false;
  const finish = (ok, who, err) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    process.stdout.write(JSON.stringify({ id, s, e: now(), ok, who, err }) + '\n');
  };
  const req = https.get({ host: cfg.host, port: cfg.port, path: cfg.path, ca, agent: false, family: 6 }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (c) => (body += c));
    res.on('end', () => finish(res.statusCode === 200, body.trim() || undefined, res.statusCode === 200 ? undefined : 'HTTP ' + res.statusCode));
    res.on('error', (e) => finish(false, undefined, e.code || e.message));
  });
  const timer = setTimeout(() => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })), cfg.timeoutMs);
  req.on('error', (e) => finish(false, undefined, e.code || e.message));
}
setInterval(probe, cfg.intervalMs);
probe();
`;
