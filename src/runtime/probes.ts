/**
 * Probes run inside network namespaces: ping, and the small Node programs in
 * src/runtime/probes/ (TCP listener and client of `flat6 lab check`, the
 * stand-in API server and the client of `flat6 ha failover`). The programs
 * are plain .mjs files run by this Node binary; they are looked up in the
 * package's src/runtime/probes (src/core/package-root.ts finds the package).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../core/package-root.js';
import { Daemon } from './daemon.js';
import { inNs, LabError } from './exec.js';

export const PROBES_DIR = join(packageRoot(import.meta.url), 'src', 'runtime', 'probes');

export type ProbeProgram = 'tcp-listener' | 'tcp-client' | 'https-stand-in' | 'https-poller';

export function probeFile(program: ProbeProgram): string {
  const file = join(PROBES_DIR, `${program}.mjs`);
  if (!existsSync(file)) throw new LabError(`probe program ${file} is missing (flat6 is installed without src/runtime/probes)`);
  return file;
}

/** `ip netns exec NS node <probe>.mjs args...` as an argv (for a Daemon). */
export function probeArgv(ns: string, program: ProbeProgram, args: string[]): string[] {
  return ['ip', 'netns', 'exec', ns, process.execPath, probeFile(program), ...args];
}

export interface PingResult {
  ok: boolean;
  rtt?: string;
  /** why it failed, from ping's own output */
  error?: string;
}

/** One ICMPv6 echo from namespace `fromNs`. */
export async function ping(fromNs: string, to: string, opts: { size?: number; dontFragment?: boolean; wait?: string } = {}): Promise<PingResult> {
  const args = ['-n', '-c', '1', '-W', opts.wait ?? '3'];
  if (opts.dontFragment) args.push('-M', 'do');
  if (opts.size !== undefined) args.push('-s', String(opts.size));
  const r = await inNs(fromNs, 'ping', [...args, to], { timeoutMs: 15_000 });
  const rtt = /time=([\d.]+ ms)/.exec(r.stdout)?.[1];
  if (r.code === 0) return { ok: true, rtt };
  const lines = `${r.stdout}\n${r.stderr}`.split('\n').map((l) => l.trim());
  const why = lines.find((l) => /unreachable|local error|too long|Network is|No route|not permitted|Cannot/i.test(l)) ?? 'no reply';
  return { ok: false, error: why.replace(/^From /, 'ICMPv6 from ').replace(/icmp_seq=\d+ /, '') };
}

/** A TCP listener in `toNs` answers one connection with a token; a client in `fromNs` must read it back. */
export async function tcp(fromNs: string, toNs: string, to: string, port: number): Promise<{ ok: boolean; error?: string }> {
  const token = randomBytes(6).toString('hex');
  const listener = new Daemon(`TCP listener in ${toNs}`, probeArgv(toNs, 'tcp-listener', [String(port), token]));
  listener.start();
  try {
    await listener.waitLine(/^ready$/, 10_000, 'listener');
    const c = await inNs(fromNs, process.execPath, [probeFile('tcp-client'), to, String(port), token], { timeoutMs: 10_000 });
    return c.code === 0 ? { ok: true } : { ok: false, error: c.stderr.trim() || `client exit ${c.code}` };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  } finally {
    // It exits after its one connection; a failed client leaves it waiting.
    if (!(await listener.waitExit(1_000))) listener.signal('SIGKILL', true);
    await listener.waitExit(2_000);
    listener.close();
  }
}
