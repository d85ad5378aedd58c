/**
 * A kubeadm config file as a whole: every document, plus the rules that tie the documents together.
 */
import type { JsonObject, SchemaIssue } from './dsl.js';
import { cidrContains, cidrOf, field, ipOf, isPlainObject } from './values.js';
import { identify, validateIdentified } from './walk.js';

const INIT_KINDS = ['InitConfiguration', 'ClusterConfiguration'];
const COMPONENT_KINDS = ['KubeletConfiguration', 'KubeProxyConfiguration'];

interface Placed {
  index: number;
  doc: JsonObject;
}

/**
 * Validates a multi-document kubeadm config file: every document, plus the rules that tie them
 * together — at most one document per kind (kubeadm SplitConfigDocuments), and the file is one of
 *   init:    InitConfiguration + ClusterConfiguration (+ KubeletConfiguration, KubeProxyConfiguration)
 *   join:    JoinConfiguration alone
 *   reset:   ResetConfiguration alone
 *   upgrade: UpgradeConfiguration alone
 * For init files the flat6 consistency rules also apply: kube-proxy clusterCIDR equals
 * networking.podSubnet, kubelet clusterDNS lies inside networking.serviceSubnet and kubelet
 * clusterDomain equals networking.dnsDomain.
 *
 * Every issue carries the index of its document (`doc`) and the keys to the value (`at`), except
 * the few about the file as a whole (path "(file)").
 */
export function validateKubeadmFile(docs: unknown[]): SchemaIssue[] {
  const out: SchemaIssue[] = [];
  if (!Array.isArray(docs) || docs.length === 0) {
    return [{ path: '(file)', message: 'a kubeadm config file needs at least one document' }];
  }
  const byKind = new Map<string, Placed>();
  docs.forEach((doc, index) => {
    const id = identify(doc, `documents[${index}]`);
    for (const i of validateIdentified(id, doc)) out.push({ ...i, doc: index });
    if (id.kind === undefined || !isPlainObject(doc)) return;
    const prior = byKind.get(id.kind);
    if (prior) {
      out.push({
        path: id.kind,
        message: `kind ${id.kind} is specified twice in the file (documents ${prior.index} and ${index})`,
        hint: 'merge the two documents into one',
        doc: index,
        at: ['kind'],
      });
    } else {
      byKind.set(id.kind, { index, doc });
    }
  });

  const kinds = [...byKind.keys()];
  const has = (k: string) => byKind.has(k);
  const about = (k: string, message: string, hint?: string) => {
    const placed = byKind.get(k);
    out.push({ path: k, message, ...(hint ? { hint } : {}), ...(placed ? { doc: placed.index, at: ['kind'] } : {}) });
  };

  if (has('JoinConfiguration')) {
    for (const k of kinds) {
      if (k === 'JoinConfiguration') continue;
      if (INIT_KINDS.includes(k)) {
        about(k, `${k} cannot be combined with JoinConfiguration in one file: a file is either for "kubeadm init" or for "kubeadm join"`);
      } else {
        about(k, `${k} cannot accompany JoinConfiguration`, 'a join file holds the JoinConfiguration alone');
      }
    }
  } else if (has('ResetConfiguration') || has('UpgradeConfiguration')) {
    const main = has('ResetConfiguration') ? 'ResetConfiguration' : 'UpgradeConfiguration';
    for (const k of kinds) if (k !== main) about(k, `${k} cannot accompany ${main}`, `that file holds the ${main} alone`);
  } else {
    for (const k of INIT_KINDS) {
      if (!has(k)) about(k, `missing ${k}`, 'an init file holds InitConfiguration and ClusterConfiguration together');
    }
    for (const k of kinds) {
      if (![...INIT_KINDS, ...COMPONENT_KINDS].includes(k)) about(k, `${k} does not belong in a kubeadm init file`);
    }
    crossCheckInit(byKind, out);
  }
  return out;
}

function crossCheckInit(byKind: Map<string, Placed>, out: SchemaIssue[]): void {
  const cluster = byKind.get('ClusterConfiguration')?.doc;
  if (!cluster) return;
  const podSubnet = field(cluster, 'networking', 'podSubnet');
  const serviceSubnet = field(cluster, 'networking', 'serviceSubnet');
  const dnsDomain = field(cluster, 'networking', 'dnsDomain');

  const proxy = byKind.get('KubeProxyConfiguration');
  const clusterCIDR = proxy?.doc.clusterCIDR;
  if (proxy && typeof clusterCIDR === 'string' && clusterCIDR !== '' && typeof podSubnet === 'string' && podSubnet !== '') {
    const norm = (s: string) =>
      s
        .split(',')
        .map((c) => cidrOf(c))
        .map((c) => (c ? `${c.family}/${c.base}/${c.length}` : '?'))
        .sort()
        .join(',');
    if (norm(clusterCIDR) !== norm(podSubnet)) {
      out.push({
        path: 'KubeProxyConfiguration.clusterCIDR',
        message: `clusterCIDR "${clusterCIDR}" differs from ClusterConfiguration.networking.podSubnet "${podSubnet}" (flat6 consistency)`,
        hint: `write clusterCIDR: "${podSubnet}"`,
        doc: proxy.index,
        at: ['clusterCIDR'],
      });
    }
  }

  const kubelet = byKind.get('KubeletConfiguration');
  if (!kubelet) return;
  const { clusterDNS, clusterDomain } = kubelet.doc;
  if (Array.isArray(clusterDNS) && typeof serviceSubnet === 'string' && serviceSubnet !== '') {
    const nets = serviceSubnet.split(',').map(cidrOf);
    if (nets.every((n) => n !== undefined)) {
      clusterDNS.forEach((d, i) => {
        const addr = typeof d === 'string' ? ipOf(d) : undefined;
        if (addr && !nets.some((n) => cidrContains(n, addr))) {
          out.push({
            path: `KubeletConfiguration.clusterDNS[${i}]`,
            message: `${d} is outside ClusterConfiguration.networking.serviceSubnet "${serviceSubnet}" (flat6 consistency)`,
            hint: 'the cluster DNS Service address is the 10th address of the service subnet',
            doc: kubelet.index,
            at: ['clusterDNS', i],
          });
        }
      });
    }
  }
  if (typeof clusterDomain === 'string' && clusterDomain !== '' && typeof dnsDomain === 'string' && dnsDomain !== '' && clusterDomain !== dnsDomain) {
    out.push({
      path: 'KubeletConfiguration.clusterDomain',
      message: `clusterDomain "${clusterDomain}" differs from ClusterConfiguration.networking.dnsDomain "${dnsDomain}" (flat6 consistency)`,
      hint: `write clusterDomain: "${dnsDomain}"`,
      doc: kubelet.index,
      at: ['clusterDomain'],
    });
  }
}
