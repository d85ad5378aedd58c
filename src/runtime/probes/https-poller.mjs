// The client of the failover lab (`flat6 ha failover`), run inside the client
// namespace:
//   node https-poller.mjs '{"host","port","path","ca","intervalMs","timeoutMs"}'
// Every intervalMs it starts an independent GET https://[host]:port/path on a
// new connection (so each request tests the path afresh), verifies the
// certificate against the PEM file `ca`, gives up after timeoutMs, and prints
// one JSON line per request: {id, s, e, ok, who?, err?} with start and end in
// ms since the epoch (sub-ms resolution) and `who` the body of a 200 answer.
import { readFileSync } from 'node:fs';
import { get } from 'node:https';

const cfg = JSON.parse(process.argv[2]);
const ca = readFileSync(cfg.ca);
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
  const req = get({ host: cfg.host, port: cfg.port, path: cfg.path, ca, agent: false, family: 6 }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (c) => (body += c));
    res.on('end', () => finish(res.statusCode === 200, body.trim() || undefined, res.statusCode === 200 ? undefined : `HTTP ${res.statusCode}`));
    res.on('error', (e) => finish(false, undefined, e.code || e.message));
  });
  const timer = setTimeout(() => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })), cfg.timeoutMs);
  req.on('error', (e) => finish(false, undefined, e.code || e.message));
}

setInterval(probe, cfg.intervalMs);
probe();
