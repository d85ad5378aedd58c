/**
 * Pod specs wherever they stand: Pod.spec, the templates of Deployments,
 * StatefulSets, DaemonSets, ReplicaSets, Jobs, ReplicationControllers and
 * PodTemplates, CronJob.spec.jobTemplate.spec.template.spec, and the pod
 * templates of custom resources (found by shape: an object with a
 * `containers` list of objects).
 */
import { familyOf } from '../ipv4.js';
import { arr, formatPath, isRecord, scalarText, str, type KubeObject, type PathPart, type RawFinding } from '../types.js';
import { scanWords, splitWords, type Word, type WordHit } from './words.js';
import { wordMessage } from './word-message.js';

const MAX_SEARCH_DEPTH = 12;

/** IPv4 other than loopback: 127.0.0.0/8 stays on every pod's and node's lo, so it is never reported here. */
function ipv4NotLoopback(v: unknown): boolean {
  return familyOf(v) === 4 && !String(v).startsWith('127.');
}

/** Every pod spec in `obj` with its path (metadata and status are not searched). */
export function findPodSpecs(obj: KubeObject): Array<{ spec: Record<string, unknown>; path: PathPart[] }> {
  const found: Array<{ spec: Record<string, unknown>; path: PathPart[] }> = [];
  const visit = (v: unknown, path: PathPart[]): void => {
    if (path.length > MAX_SEARCH_DEPTH) return;
    if (Array.isArray(v)) {
      v.forEach((x, i) => visit(x, [...path, i]));
      return;
    }
    if (!isRecord(v)) return;
    const containers = v['containers'];
    if (Array.isArray(containers) && containers.length > 0 && containers.every(isRecord)) {
      found.push({ spec: v, path });
      return;
    }
    for (const [k, x] of Object.entries(v)) {
      if (path.length === 0 && (k === 'metadata' || k === 'status')) continue;
      if (typeof x === 'object' && x !== null) visit(x, [...path, k]);
    }
  };
  visit(obj, []);
  return found;
}

export function workloadRules(obj: KubeObject): RawFinding[] {
  const out: RawFinding[] = [];
  for (const { spec, path } of findPodSpecs(obj)) podSpecRules(spec, path, out);
  return out;
}

function push(out: RawFinding[], base: PathPart[], rel: PathPart[], f: Omit<RawFinding, 'path' | 'podSpecPath'>): void {
  out.push({ ...f, path: [...base, ...rel], podSpecPath: formatPath(rel) });
}

function podSpecRules(spec: Record<string, unknown>, base: PathPart[], out: RawFinding[]): void {
  for (const list of ['initContainers', 'containers', 'ephemeralContainers']) {
    arr(spec[list]).forEach((c, i) => {
      if (isRecord(c)) containerRules(c, [list, i], base, out);
    });
  }
  hostAliases(spec, base, out);
  const dns = spec['dnsConfig'];
  if (isRecord(dns)) {
    arr(dns['nameservers']).forEach((ns, i) => {
      if (ipv4NotLoopback(ns)) {
        push(out, base, ['dnsConfig', 'nameservers', i], { code: 'DNS_CONFIG_IPV4_NAMESERVER', message: `dnsConfig nameserver ${JSON.stringify(ns)} is IPv4: the pod cannot reach it, and every lookup that tries it first waits for a timeout` });
      }
    });
  }
}

function hostAliases(spec: Record<string, unknown>, base: PathPart[], out: RawFinding[]): void {
  const aliases = arr(spec['hostAliases']);
  const v6Names = new Set<string>();
  for (const a of aliases) {
    if (isRecord(a) && familyOf(a['ip']) === 6) for (const h of arr(a['hostnames'])) if (typeof h === 'string') v6Names.add(h);
  }
  aliases.forEach((a, i) => {
    if (!isRecord(a) || !ipv4NotLoopback(a['ip'])) return;
    const names = arr(a['hostnames']).filter((h): h is string => typeof h === 'string' && !v6Names.has(h));
    if (!names.length) return;
    push(out, base, ['hostAliases', i, 'ip'], {
      code: 'HOST_ALIAS_IPV4_ONLY',
      message: `hostAliases maps ${names.map((n) => JSON.stringify(n)).join(', ')} to ${JSON.stringify(a['ip'])} only: /etc/hosts answers before DNS, so the name resolves to an IPv4 address the pod cannot reach`,
    });
  });
}

const HANDLERS = [
  ['livenessProbe'],
  ['readinessProbe'],
  ['startupProbe'],
  ['lifecycle', 'postStart'],
  ['lifecycle', 'preStop'],
] as const;

function containerRules(c: Record<string, unknown>, at: PathPart[], base: PathPart[], out: RawFinding[]): void {
  const who = `container ${JSON.stringify(str(c['name']) ?? String(at[1]))}`;
  // command and args form one command line: a flag at the end of command may take its value from args.
  const words: Array<Word<PathPart[]>> = [];
  for (const key of ['command', 'args']) {
    arr(c[key]).forEach((a, i) => {
      if (typeof a === 'string') for (const w of splitWords(a)) words.push({ text: w, ref: [...at, key, i] });
    });
  }
  for (const h of scanWords(words, 'args')) emit(out, base, h, who);
  arr(c['env']).forEach((e, i) => {
    if (!isRecord(e) || typeof e['name'] !== 'string' || typeof e['value'] !== 'string') return;
    const ref: PathPart[] = [...at, 'env', i, 'value'];
    const value = e['value'];
    const hits = /\s/.test(value.trim())
      ? scanWords(splitWords(value).map((w) => ({ text: w, ref })), 'env', e['name'])
      : scanWords([{ text: `${e['name']}=${value}`, ref }], 'env');
    for (const h of hits) emit(out, base, h, who);
  });
  for (const path of HANDLERS) {
    let h: unknown = c;
    for (const p of path) h = isRecord(h) ? h[p] : undefined;
    if (!isRecord(h)) continue;
    for (const kind of ['httpGet', 'tcpSocket'] as const) {
      const target = h[kind];
      if (isRecord(target) && ipv4NotLoopback(target['host'])) {
        push(out, base, [...at, ...path, kind, 'host'], {
          code: 'PROBE_IPV4_HOST',
          message: `${who} ${path.join('.')} ${kind} targets host ${JSON.stringify(target['host'])} (IPv4): the kubelet of an IPv6-only node cannot reach it`,
        });
      }
    }
  }
  arr(c['ports']).forEach((p, i) => {
    if (isRecord(p) && ipv4NotLoopback(p['hostIP'])) {
      push(out, base, [...at, 'ports', i, 'hostIP'], {
        code: 'HOST_PORT_IPV4_HOST_IP',
        message: `${who} hostPort ${scalarText(p['hostPort'])} is bound to hostIP ${JSON.stringify(p['hostIP'])} (IPv4): nothing reaches it over IPv6`,
      });
    }
  });
}

function emit(out: RawFinding[], base: PathPart[], h: WordHit<PathPart[]>, who: string): void {
  const m = wordMessage(h);
  push(out, base, h.ref, { code: h.code, message: `${who}: ${m.said}`, ...(m.fix ? { fix: m.fix } : {}) });
}
