/**
 * netplan -> systemd-networkd units -> iproute2. The lab runs the real
 * `netplan generate --root-dir` on a host's rendered etc/netplan and applies
 * the .link and .network units it writes, key by key. A key the lab does not
 * know is an error, so nothing in a rendered file is silently skipped.
 */
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatPrefix, parsePrefix } from '../core/ip.js';
import { ipBatch, ipJson, LabError, must } from '../runtime/exec.js';

export interface LinkUnit {
  file: string;
  matchOriginalName?: string;
  matchMac?: string;
  name?: string;
  mtu?: number;
}

export interface RouteUnit {
  destination: string;
  gateway?: string;
  type: 'unicast' | 'unreachable' | 'blackhole' | 'prohibit';
  metric?: number;
}

export interface NetworkUnit {
  file: string;
  matchName?: string;
  matchMac?: string;
  mtu?: number;
  addresses: string[];
  acceptRA?: boolean;
  routes: RouteUnit[];
  /** resolvers (recorded, not applied: the lab resolves no names) */
  dns: string[];
}

export interface Units {
  links: LinkUnit[];
  networks: NetworkUnit[];
}

type Section = { name: string; entries: Array<[string, string]> };

export function parseUnit(text: string): Section[] {
  const out: Section[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      out.push({ name: sec[1]!, entries: [] });
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0 || out.length === 0) throw new LabError(`cannot parse networkd line "${line}"`);
    out[out.length - 1]!.entries.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return out;
}

function unsupported(file: string, section: string, key: string, value: string): LabError {
  return new LabError(`${file}: [${section}] ${key}=${value} is not something the lab can apply; extend src/lab/networkd.ts before rendering it`);
}

const yes = (v: string): boolean => /^(yes|true|1|on)$/i.test(v);

export function parseLink(file: string, text: string): LinkUnit {
  const u: LinkUnit = { file };
  for (const s of parseUnit(text)) {
    for (const [k, v] of s.entries) {
      const key = `${s.name}.${k}`;
      if (key === 'Match.OriginalName') u.matchOriginalName = v;
      else if (key === 'Match.PermanentMACAddress' || key === 'Match.MACAddress') u.matchMac = v.toLowerCase();
      else if (key === 'Link.Name') u.name = v;
      else if (key === 'Link.MTUBytes') u.mtu = Number(v);
      else if (key === 'Link.WakeOnLan' && v === 'off') continue;
      else throw unsupported(file, s.name, k, v);
    }
  }
  return u;
}

export function parseNetwork(file: string, text: string): NetworkUnit {
  const u: NetworkUnit = { file, addresses: [], routes: [], dns: [] };
  for (const s of parseUnit(text)) {
    if (s.name === 'Route') {
      const r: RouteUnit = { destination: '', type: 'unicast' };
      for (const [k, v] of s.entries) {
        if (k === 'Destination') r.destination = v;
        else if (k === 'Gateway') r.gateway = v;
        else if (k === 'Type' && ['unicast', 'unreachable', 'blackhole', 'prohibit'].includes(v)) r.type = v as RouteUnit['type'];
        else if (k === 'Metric') r.metric = Number(v);
        else throw unsupported(file, s.name, k, v);
      }
      if (!r.destination) throw new LabError(`${file}: a [Route] without Destination=`);
      u.routes.push(r);
      continue;
    }
    for (const [k, v] of s.entries) {
      const key = `${s.name}.${k}`;
      if (key === 'Match.Name') u.matchName = v;
      else if (key === 'Match.PermanentMACAddress' || key === 'Match.MACAddress') u.matchMac = v.toLowerCase();
      else if (key === 'Link.MTUBytes') u.mtu = Number(v);
      else if (key === 'Network.Address') u.addresses.push(v);
      else if (key === 'Network.IPv6AcceptRA') u.acceptRA = yes(v);
      else if (key === 'Network.DNS') u.dns.push(v);
      // IPv6 link-local addressing is the kernel's default; anything else would need work here.
      else if (key === 'Network.LinkLocalAddressing' && v === 'ipv6') continue;
      else if (key === 'Network.Domains' && v === '') continue;
      else throw unsupported(file, s.name, k, v);
    }
  }
  return u;
}

/**
 * Copy a rendered host's etc/netplan to `root`, run `netplan generate
 * --root-dir root`, and parse the networkd units it wrote.
 */
export async function netplanUnits(renderedRoot: string, root: string): Promise<Units> {
  const src = join(renderedRoot, 'etc', 'netplan');
  if (!existsSync(src)) throw new LabError(`no rendered netplan in ${src}`);
  mkdirSync(join(root, 'etc'), { recursive: true, mode: 0o700 });
  cpSync(src, join(root, 'etc', 'netplan'), { recursive: true });
  for (const f of readdirSync(join(root, 'etc', 'netplan'))) chmodSync(join(root, 'etc', 'netplan', f), 0o600);
  await must('netplan', ['generate', '--root-dir', root]);
  const dir = join(root, 'run', 'systemd', 'network');
  const units: Units = { links: [], networks: [] };
  if (!existsSync(dir)) return units;
  for (const f of readdirSync(dir).sort()) {
    const p = join(dir, f);
    const text = readFileSync(p, 'utf8');
    if (f.endsWith('.link')) units.links.push(parseLink(p, text));
    else if (f.endsWith('.network')) units.networks.push(parseNetwork(p, text));
    else throw new LabError(`${p}: the lab does not apply networkd ${f.slice(f.lastIndexOf('.'))} units`);
  }
  return units;
}

interface IpLink {
  ifname: string;
  address?: string;
  mtu: number;
}

function globMatch(glob: string, name: string): boolean {
  const re = new RegExp(`^${glob.split(/\s+/).map((g) => g.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')).join('|')}$`);
  return re.test(name);
}

export interface ApplyOptions {
  /** leave out routes to these destinations (fault injection) */
  skipRoutes?: ReadonlySet<string>;
}

export interface Applied {
  /** device name -> the .network unit applied to it */
  interfaces: Map<string, NetworkUnit>;
  routes: number;
  skipped: string[];
}

/**
 * Apply units to the devices present in namespace `ns`, as systemd-udevd
 * (.link: rename by MAC or name, MTU) and systemd-networkd (.network: MTU,
 * addresses, up, routes) would at boot.
 */
export async function applyUnits(ns: string, units: Units, opts: ApplyOptions = {}): Promise<Applied> {
  let devices = (await ipJson<IpLink[]>(ns, ['link', 'show'])).filter((d) => d.ifname !== 'lo');
  const pre: string[] = [];
  for (const d of devices) {
    const l = units.links.find((u) => (u.matchMac === undefined || u.matchMac === d.address?.toLowerCase()) && (u.matchOriginalName === undefined || globMatch(u.matchOriginalName, d.ifname)) && (u.matchMac !== undefined || u.matchOriginalName !== undefined));
    if (!l) continue;
    if (l.name && l.name !== d.ifname) pre.push(`link set dev ${d.ifname} down`, `link set dev ${d.ifname} name ${l.name}`);
    if (l.mtu) pre.push(`link set dev ${l.name ?? d.ifname} mtu ${l.mtu}`);
  }
  await ipBatch(ns, pre);
  devices = (await ipJson<IpLink[]>(ns, ['link', 'show'])).filter((d) => d.ifname !== 'lo');

  const interfaces = new Map<string, NetworkUnit>();
  const cmds: string[] = [];
  const sysctls: string[] = [];
  for (const u of units.networks) {
    const d = devices.find((x) => (u.matchName === undefined || globMatch(u.matchName, x.ifname)) && (u.matchMac === undefined || u.matchMac === x.address?.toLowerCase()));
    if (!d) {
      throw new LabError(`${u.file}: no interface in namespace ${ns} matches it (Name=${u.matchName ?? '*'}${u.matchMac ? `, MAC ${u.matchMac}` : ''}); present: ${devices.map((x) => `${x.ifname} ${x.address ?? ''}`).join(', ')}`);
    }
    interfaces.set(d.ifname, u);
    if (u.mtu) cmds.push(`link set dev ${d.ifname} mtu ${u.mtu}`);
    if (u.acceptRA === false) sysctls.push(`net.ipv6.conf.${d.ifname}.accept_ra=0`);
    for (const a of u.addresses) cmds.push(`address replace ${a} dev ${d.ifname}`);
    cmds.push(`link set dev ${d.ifname} up`);
  }
  if (sysctls.length) await must('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', ...sysctls]);
  await ipBatch(ns, cmds);

  const routes: string[] = [];
  const skipped: string[] = [];
  for (const [dev, u] of interfaces) {
    for (const r of u.routes) {
      const dst = canonicalDestination(r.destination);
      if (opts.skipRoutes?.has(dst)) {
        skipped.push(`${dst}${r.gateway ? ` via ${r.gateway}` : ''}`);
        continue;
      }
      const metric = `metric ${r.metric ?? 1024}`;
      if (r.type === 'unicast') routes.push(`route replace ${dst}${r.gateway ? ` via ${r.gateway}` : ''} dev ${dev} proto static ${metric}`);
      else routes.push(`route replace ${r.type} ${dst} proto static ${metric}`);
    }
  }
  await ipBatch(ns, routes);
  return { interfaces, routes: routes.length, skipped };
}

/** Remove the routes of `units` (as applyUnits installed them) whose destination is in `only`. */
export async function removeRoutes(ns: string, units: Units, only: ReadonlySet<string>): Promise<void> {
  const cmds: string[] = [];
  for (const u of units.networks) {
    for (const r of u.routes) {
      const dst = canonicalDestination(r.destination);
      if (!only.has(dst)) continue;
      cmds.push(r.type === 'unicast' ? `route del ${dst}${r.gateway ? ` via ${r.gateway}` : ''} proto static` : `route del ${r.type} ${dst} proto static`);
    }
  }
  await ipBatch(ns, cmds);
}

/** Every route destination of a set of units, canonical. */
export function unitRoutes(units: Units): Map<string, RouteUnit> {
  const m = new Map<string, RouteUnit>();
  for (const u of units.networks) for (const r of u.routes) m.set(canonicalDestination(r.destination), r);
  return m;
}

export function canonicalDestination(d: string): string {
  if (d === 'default' || d === '::/0') return '::/0';
  return formatPrefix(parsePrefix(d.includes('/') ? d : `${d}/128`, true));
}
