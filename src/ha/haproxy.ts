/** haproxy's master CLI socket: commands for its worker, and the backend states it reports. */
import { connect } from 'node:net';
import { LabError } from '../runtime/exec.js';

export interface BackendState {
  name: string;
  status: string;
}

/** Send one command through the master socket `sock` (to the worker unless it is "show proc"); resolves with the answer. */
export function haproxyCommand(sock: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect(sock);
    let out = '';
    const timer = setTimeout(() => c.destroy(new Error('timeout')), 2_000);
    c.setEncoding('utf8');
    c.on('connect', () => c.write(`${command.startsWith('show proc') ? '' : '@1 '}${command}; quit\n`));
    c.on('data', (d: string) => (out += d));
    c.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    c.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

/** True once the master socket answers. */
export async function haproxyAnswers(sock: string): Promise<boolean> {
  try {
    await haproxyCommand(sock, 'show proc');
    return true;
  } catch {
    return false;
  }
}

/** Servers of backend `backend` from a "show stat" CSV answer (UP, DOWN, "UP 1/2", ...); `who` names the haproxy in errors. */
export function parseBackends(csv: string, backend: string, who: string): BackendState[] {
  const lines = csv.split('\n');
  const header = (lines.find((l) => l.startsWith('# ')) ?? '').slice(2).split(',');
  const px = header.indexOf('pxname');
  const sv = header.indexOf('svname');
  const st = header.indexOf('status');
  if (px < 0 || sv < 0 || st < 0) throw new LabError(`unexpected "show stat" answer from haproxy of ${who}`);
  return lines
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(','))
    .filter((f) => f[px] === backend && f[sv] !== 'FRONTEND' && f[sv] !== 'BACKEND')
    .map((f) => ({ name: f[sv]!, status: f[st]! }));
}
