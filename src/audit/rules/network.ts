/**
 * Rules on the API objects that carry addresses themselves: Service, Ingress,
 * NetworkPolicy, EndpointSlice, Endpoints and Node.
 */
import { cidrFamilyOf, familyOf } from '../ipv4.js';
import { arr, isRecord, str, type KubeObject, type PathPart, type RawFinding } from '../types.js';

const q = (v: unknown): string => JSON.stringify(v);

/**
 * A headless Service without a selector is the one case the API server admits
 * with any families on a single-stack cluster, and it defaults such a Service
 * to RequireDualStack with both families even there: reporting it would flag
 * every clean IPv6-only cluster (kubernetes pkg/registry/core/service/storage/alloc.go).
 */
function headlessSelectorless(spec: Record<string, unknown>): boolean {
  const selector = spec['selector'];
  return spec['clusterIP'] === 'None' && (!isRecord(selector) || Object.keys(selector).length === 0);
}

export function serviceRules(obj: KubeObject): RawFinding[] {
  const out: RawFinding[] = [];
  const spec = obj['spec'];
  if (isRecord(spec) && spec['type'] !== 'ExternalName') {
    if (!headlessSelectorless(spec)) {
      arr(spec['ipFamilies']).forEach((f, i) => {
        if (f === 'IPv4') {
          out.push({ code: 'SERVICE_IPV4_FAMILY', path: ['spec', 'ipFamilies', i], message: 'ipFamilies lists IPv4: the API server of an IPv6-only cluster refuses the Service ("not configured on this cluster")' });
        }
      });
      const policy = spec['ipFamilyPolicy'];
      if (policy === 'RequireDualStack') {
        out.push({ code: 'SERVICE_REQUIRE_DUAL_STACK', path: ['spec', 'ipFamilyPolicy'], message: 'ipFamilyPolicy RequireDualStack: the API server of a single-stack cluster refuses the Service ("this cluster is not configured for dual-stack services")' });
      } else if (policy === 'PreferDualStack') {
        out.push({ code: 'SERVICE_PREFER_DUAL_STACK', path: ['spec', 'ipFamilyPolicy'], message: 'ipFamilyPolicy PreferDualStack: admitted as IPv6 single-stack here, but the Service silently changes shape on any cluster with IPv4' });
      }
    }
    const ips = arr(spec['clusterIPs']);
    if (ips.length) {
      ips.forEach((ip, i) => {
        if (familyOf(ip) === 4) out.push({ code: 'SERVICE_IPV4_CLUSTER_IP', path: ['spec', 'clusterIPs', i], message: `clusterIPs pins ${q(ip)}, an IPv4 address outside any IPv6 service range` });
      });
    } else if (familyOf(spec['clusterIP']) === 4) {
      out.push({ code: 'SERVICE_IPV4_CLUSTER_IP', path: ['spec', 'clusterIP'], message: `clusterIP pins ${q(spec['clusterIP'])}, an IPv4 address outside any IPv6 service range` });
    }
    arr(spec['externalIPs']).forEach((ip, i) => {
      if (familyOf(ip) === 4) out.push({ code: 'SERVICE_IPV4_EXTERNAL_IP', path: ['spec', 'externalIPs', i], message: `externalIPs lists ${q(ip)}: kube-proxy of an IPv6-only cluster programs no IPv4 rules, so traffic to it is dropped` });
    });
    if (familyOf(spec['loadBalancerIP']) === 4) {
      out.push({ code: 'SERVICE_IPV4_LOAD_BALANCER_IP', path: ['spec', 'loadBalancerIP'], message: `loadBalancerIP requests ${q(spec['loadBalancerIP'])}, an IPv4 address for the load balancer of an IPv6 Service` });
    }
  }
  lbStatus(obj, out);
  return out;
}

/** Service and Ingress: status.loadBalancer.ingress with addresses, all IPv4. */
export function lbStatus(obj: KubeObject, out: RawFinding[]): void {
  const status = obj['status'];
  const lb = isRecord(status) ? status['loadBalancer'] : undefined;
  const ingress = isRecord(lb) ? arr(lb['ingress']) : [];
  const ips = ingress.map((e) => (isRecord(e) ? e['ip'] : undefined));
  const families = ips.map(familyOf);
  if (!families.includes(4) || families.includes(6)) return;
  // An ingress entry with only a hostname may resolve to IPv6: then nothing is known.
  if (ingress.some((e, i) => isRecord(e) && families[i] === undefined && typeof e['hostname'] === 'string')) return;
  const i = families.indexOf(4);
  out.push({
    code: 'LB_STATUS_IPV4_ONLY',
    path: ['status', 'loadBalancer', 'ingress', i, 'ip'],
    message: `the load balancer answers on ${ips.filter((_, j) => families[j] === 4).map(q).join(', ')} only (IPv4): clients on IPv6 cannot reach it`,
  });
}

export function networkPolicyRules(obj: KubeObject): RawFinding[] {
  const out: RawFinding[] = [];
  const spec = obj['spec'];
  if (!isRecord(spec)) return out;
  for (const [dir, peersKey] of [['ingress', 'from'], ['egress', 'to']] as const) {
    arr(spec[dir]).forEach((rule, r) => {
      if (!isRecord(rule)) return;
      arr(rule[peersKey]).forEach((peer, p) => {
        if (!isRecord(peer) || !isRecord(peer['ipBlock'])) return;
        const cidr = peer['ipBlock']['cidr'];
        if (cidrFamilyOf(cidr) !== 4) return;
        const all = String(cidr).trim() === '0.0.0.0/0';
        out.push({
          code: 'NETWORK_POLICY_IPV4_CIDR',
          path: ['spec', dir, r, peersKey, p, 'ipBlock', 'cidr'],
          message: `${dir} ipBlock ${q(cidr)} is IPv4: it matches no address of an IPv6-only cluster, so this rule allows nothing${all ? ' (0.0.0.0/0 is not "everything": that is ::/0)' : ''}`,
          ...(all ? { fix: 'write cidr: ::/0 (keep the IPv4 block only if the cluster must also talk to IPv4 through NAT64, where it still matches nothing)' } : {}),
        });
      });
    });
  }
  return out;
}

export function endpointSliceRules(obj: KubeObject): RawFinding[] {
  if (obj['addressType'] !== 'IPv4') return [];
  const labels = isRecord(obj['metadata']) ? obj['metadata']['labels'] : undefined;
  const managed = isRecord(labels) ? str(labels['endpointslice.kubernetes.io/managed-by']) : undefined;
  const service = isRecord(labels) ? str(labels['kubernetes.io/service-name']) : undefined;
  const n = arr(obj['endpoints']).length;
  return [
    {
      code: 'ENDPOINT_SLICE_IPV4',
      path: ['addressType'],
      message:
        `addressType IPv4 (${n} endpoint(s)): kube-proxy of an IPv6-only cluster ignores IPv4 slices` +
        (managed === 'endpointslice-controller.k8s.io' ? `; this slice follows the IPv4 family of Service ${q(service ?? '?')}` : ', so the Service gets no endpoints from it'),
    },
  ];
}

export function endpointsRules(obj: KubeObject): RawFinding[] {
  let first: PathPart[] | undefined;
  let v4 = 0;
  let total = 0;
  arr(obj['subsets']).forEach((s, i) => {
    if (!isRecord(s)) return;
    for (const key of ['addresses', 'notReadyAddresses']) {
      arr(s[key]).forEach((a, j) => {
        if (!isRecord(a)) return;
        total++;
        if (familyOf(a['ip']) === 4) {
          v4++;
          first ??= ['subsets', i, key, j, 'ip'];
        }
      });
    }
  });
  if (!first) return [];
  return [{ code: 'ENDPOINTS_IPV4_ADDRESS', path: first, message: `${v4} of ${total} endpoint address(es) are IPv4: an IPv6-only pod cannot reach them` }];
}

export function nodeRules(obj: KubeObject): RawFinding[] {
  const out: RawFinding[] = [];
  const status = obj['status'];
  if (isRecord(status)) {
    arr(status['addresses']).forEach((a, i) => {
      if (!isRecord(a) || familyOf(a['address']) !== 4) return;
      if (a['type'] === 'InternalIP') {
        out.push({ code: 'NODE_IPV4_INTERNAL_IP', path: ['status', 'addresses', i, 'address'], message: `the kubelet reports InternalIP ${q(a['address'])} (IPv4): the API server, kubectl logs/exec and node-local traffic would use an address an IPv6-only cluster cannot route` });
      } else if (a['type'] === 'ExternalIP') {
        out.push({ code: 'NODE_IPV4_EXTERNAL_IP', path: ['status', 'addresses', i, 'address'], message: `the node reports ExternalIP ${q(a['address'])} (IPv4): anything that reaches the node by it (NodePort clients, external-dns) stays on IPv4` });
      }
    });
  }
  const spec = obj['spec'];
  if (isRecord(spec)) {
    const list = arr(spec['podCIDRs']);
    if (list.length) {
      list.forEach((c, i) => {
        if (cidrFamilyOf(c) === 4) out.push({ code: 'NODE_IPV4_POD_CIDR', path: ['spec', 'podCIDRs', i], message: `podCIDRs lists ${q(c)} (IPv4): pods on this node would get IPv4 addresses` });
      });
    } else if (cidrFamilyOf(spec['podCIDR']) === 4) {
      out.push({ code: 'NODE_IPV4_POD_CIDR', path: ['spec', 'podCIDR'], message: `podCIDR ${q(spec['podCIDR'])} is IPv4: pods on this node would get IPv4 addresses` });
    }
  }
  return out;
}
