// A stand-in for kube-apiserver in the failover lab (`flat6 ha failover`),
// run inside a control-plane node's network namespace:
//   node https-stand-in.mjs '{"name","host","port","key","cert"}'
// HTTPS on [host]:port, answering GET /healthz, /readyz and /livez with 200
// and its own name, everything else with 404. Prints "listening" once the
// socket is bound. SIGTERM ends it at once, which resets its connections as a
// crashed API server would.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';

const cfg = JSON.parse(process.argv[2]);
const server = createServer({ key: readFileSync(cfg.key), cert: readFileSync(cfg.cert) }, (req, res) => {
  const path = (req.url || '').split('?')[0];
  const health = path === '/healthz' || path === '/readyz' || path === '/livez';
  res.writeHead(health && req.method === 'GET' ? 200 : 404, { 'content-type': 'text/plain', connection: 'close' });
  res.end(health ? `${cfg.name}\n` : 'not found\n');
});
server.on('error', (e) => {
  process.stderr.write(`stand-in ${cfg.name}: ${e.message}\n`);
  process.exit(1);
});
server.listen({ host: cfg.host, port: cfg.port, ipv6Only: true }, () => {
  process.stdout.write(`listening [${cfg.host}]:${cfg.port}\n`);
});
