/**
 * The container-runtime side of CNI (SPEC 1.0): run each plugin of a
 * network configuration list with CNI_COMMAND and friends in the environment
 * and the plugin's network configuration on stdin, chaining prevResult, and
 * keep the result for DEL. The plugins are the real ones from /usr/lib/cni.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError, run } from '../runtime/exec.js';

export const CNI_PATH = '/usr/lib/cni';

export interface Conflist {
  cniVersion: string;
  name: string;
  plugins: Array<Record<string, unknown> & { type: string }>;
}

export interface CniInterface {
  name: string;
  mac?: string;
  sandbox?: string;
}

export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: Array<{ address: string; gateway?: string; interface?: number }>;
  routes?: Array<{ dst: string; gw?: string }>;
}

export interface Attachment {
  /** node namespace: where the runtime (and so the plugins) run */
  nodeNs: string;
  /** pod namespace name (under /run/netns) */
  podNs: string;
  containerId: string;
  ifname: string;
  /**
   * host-local keeps its leases under dataDir (default /var/lib/cni/networks).
   * Lab nodes share one filesystem, so each gets its own directory; this is
   * the one field the lab adds to the rendered configuration.
   */
  ipamDataDir: string;
  /** where the ADD result is kept for DEL */
  cacheFile: string;
}

export function readConflist(path: string): Conflist {
  const c = JSON.parse(readFileSync(path, 'utf8')) as Conflist;
  if (!c.cniVersion || !c.name || !Array.isArray(c.plugins) || c.plugins.length === 0) {
    throw new LabError(`${path} is not a CNI network configuration list (cniVersion, name, plugins)`);
  }
  return c;
}

function pluginConfig(list: Conflist, plugin: Conflist['plugins'][number], a: Attachment, prevResult?: CniResult): Record<string, unknown> {
  const conf: Record<string, unknown> = { cniVersion: list.cniVersion, name: list.name, ...plugin };
  const ipam = plugin['ipam'] as Record<string, unknown> | undefined;
  if (ipam && ipam['type'] === 'host-local') conf['ipam'] = { ...ipam, dataDir: a.ipamDataDir };
  if (prevResult) conf['prevResult'] = prevResult;
  return conf;
}

async function invoke(command: 'ADD' | 'DEL', plugin: string, conf: Record<string, unknown>, a: Attachment): Promise<string> {
  const bin = join(CNI_PATH, plugin);
  if (!existsSync(bin)) throw new LabError(`CNI plugin ${bin} is missing (Debian package containernetworking-plugins)`);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    CNI_COMMAND: command,
    CNI_CONTAINERID: a.containerId,
    CNI_NETNS: `/run/netns/${a.podNs}`,
    CNI_IFNAME: a.ifname,
    CNI_PATH,
  };
  const r = await run('ip', ['netns', 'exec', a.nodeNs, bin], { env, input: JSON.stringify(conf) });
  if (r.code !== 0) {
    let msg = (r.stderr || r.stdout).trim();
    try {
      const e = JSON.parse(r.stdout) as { code?: number; msg?: string; details?: string };
      msg = `CNI error ${e.code}: ${e.msg}${e.details ? ` (${e.details})` : ''}`;
    } catch {
      // not a CNI error object
    }
    throw new LabError(`CNI ${command} of ${a.containerId} with plugin ${plugin} in ${a.nodeNs} failed: ${msg}`);
  }
  return r.stdout;
}

/** ADD: every plugin in order, each given the previous result. */
export async function cniAdd(list: Conflist, a: Attachment): Promise<CniResult> {
  let result: CniResult | undefined;
  for (const p of list.plugins) {
    const out = await invoke('ADD', p.type, pluginConfig(list, p, a, result), a);
    result = JSON.parse(out) as CniResult;
  }
  mkdirSync(join(a.cacheFile, '..'), { recursive: true, mode: 0o700 });
  writeFileSync(a.cacheFile, JSON.stringify(result, null, 2) + '\n', { mode: 0o600 });
  return result!;
}

/** DEL: every plugin in reverse order, each given the cached ADD result. */
export async function cniDel(list: Conflist, a: Attachment): Promise<void> {
  const cached = existsSync(a.cacheFile) ? (JSON.parse(readFileSync(a.cacheFile, 'utf8')) as CniResult) : undefined;
  for (const p of [...list.plugins].reverse()) await invoke('DEL', p.type, pluginConfig(list, p, a, cached), a);
  rmSync(a.cacheFile, { force: true });
}

/** The pod's address and the node-side veth from an ADD result. */
export function attachmentOf(r: CniResult, ifname: string): { address: string; hostVeth: string } {
  const ip = r.ips?.[0];
  if (!ip) throw new LabError('CNI result has no IP address');
  const host = r.interfaces?.find((i) => !i.sandbox && i.name !== ifname);
  if (!host) throw new LabError('CNI result names no host-side interface');
  return { address: ip.address.split('/')[0]!, hostVeth: host.name };
}
