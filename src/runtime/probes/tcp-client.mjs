// TCP client of `flat6 lab check`, run inside a pod's network namespace:
//   node tcp-client.mjs ADDRESS PORT TOKEN
// Connects, reads until the listener closes; exit 0 when it read back TOKEN,
// 3 for another answer, 1 for a connection error, 4 after 5 s.
import { connect } from 'node:net';

const [host, port, token] = process.argv.slice(2);
let got = '';
const c = connect({ host, port: Number(port) });
c.setEncoding('utf8');
c.on('data', (d) => {
  got += d;
});
c.on('end', () => process.exit(got.trim() === token ? 0 : 3));
c.on('error', (e) => {
  process.stderr.write(e.message);
  process.exit(1);
});
setTimeout(() => {
  process.stderr.write('timed out');
  process.exit(4);
}, 5_000);
