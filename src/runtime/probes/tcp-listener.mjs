// TCP listener of `flat6 lab check`, run inside a pod's network namespace:
//   node tcp-listener.mjs PORT TOKEN
// Listens on [::]:PORT, prints "ready", answers one connection with TOKEN and
// exits; gives up after 15 s.
import { createServer } from 'node:net';

const [port, token] = process.argv.slice(2);
const server = createServer((c) => {
  c.end(`${token}\n`);
  server.close();
});
server.on('error', (e) => {
  process.stderr.write(e.message);
  process.exit(1);
});
server.listen(Number(port), '::', () => process.stdout.write('ready\n'));
setTimeout(() => process.exit(2), 15_000).unref();
