/**
 * The rendered HA files in the failover lab: read back (so the lab runs
 * exactly what they say) and put where `ip netns exec` finds them.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FileEntry } from '../render/files.js';
import { HAPROXY_CFG, KEEPALIVED_CONF } from '../render/ha.js';
import { LabError } from '../runtime/exec.js';
import { ETC_NETNS } from '../runtime/netns.js';

export interface HaFiles {
  /** keepalived's interface */
  iface: string;
  /** keepalived's unicast_src_ip */
  address?: string;
  vip: string;
  /** haproxy's frontend port */
  port: number;
  backends: Array<{ name: string; address: string; port: number }>;
  /** haproxy health-check interval in ms (default-server inter) */
  checkIntervalMs: number;
}

/** Reads the HA values back from one node's rendered files. */
export function parseHaFiles(files: FileEntry[]): HaFiles {
  const ka = files.find((f) => f.path === KEEPALIVED_CONF)?.content;
  const hp = files.find((f) => f.path === HAPROXY_CFG)?.content;
  if (!ka || !hp) throw new LabError('the HA renderer produced no keepalived.conf or haproxy.cfg');
  const lines = (text: string): string[] => text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#') && !l.startsWith('!'));
  const kl = lines(ka);
  const iface = /^interface (\S+)$/.exec(kl.find((l) => l.startsWith('interface ')) ?? '')?.[1];
  const address = /^unicast_src_ip (\S+)$/.exec(kl.find((l) => l.startsWith('unicast_src_ip ')) ?? '')?.[1];
  const vipAt = kl.indexOf('virtual_ipaddress {');
  const vip = vipAt >= 0 ? /^([0-9a-fA-F:]+)\/\d+/.exec(kl[vipAt + 1] ?? '')?.[1] : undefined;
  const hl = lines(hp);
  const port = Number(/^bind :::(\d+)$/.exec(hl.find((l) => l.startsWith('bind ')) ?? '')?.[1]);
  const backends = hl.flatMap((l) => {
    const m = /^server (\S+) \[([0-9a-fA-F:]+)\]:(\d+)/.exec(l);
    return m ? [{ name: m[1]!, address: m[2]!, port: Number(m[3]) }] : [];
  });
  const inter = /\binter (\d+)(ms|s)?\b/.exec(hl.find((l) => l.startsWith('default-server ')) ?? '');
  const checkIntervalMs = inter ? Number(inter[1]) * (inter[2] === 'ms' ? 1 : 1000) : 2000;
  if (!iface || !vip || !port || backends.length === 0) throw new LabError('cannot read interface, VIP, frontend port or backends back from the rendered keepalived.conf/haproxy.cfg');
  return { iface, address, vip, port, backends, checkIntervalMs };
}

/**
 * /etc/netns/<ns>/{keepalived,haproxy}/...: the rendered files of one node at
 * the paths they name, for `ip netns exec ns` to mount over /etc. Every
 * directory is 0755: keepalived's script security wants no part of a script's
 * path writable by others.
 */
export function installEtcFiles(ns: string, files: FileEntry[]): void {
  for (const f of files) {
    if (f.path.split('/', 1)[0] !== 'etc') throw new LabError(`unexpected HA file path ${f.path}`);
    const target = join(ETC_NETNS, ns, f.path.slice('etc/'.length));
    mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
    chmodSync(join(ETC_NETNS, ns), 0o755);
    chmodSync(dirname(target), 0o755);
    writeFileSync(target, f.content, { mode: f.mode });
    chmodSync(target, f.mode);
  }
}
