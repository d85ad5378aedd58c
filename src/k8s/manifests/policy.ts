/**
 * The zero-trust NetworkPolicy baseline, per selected namespace: deny every
 * ingress and egress, then allow what every pod needs (DNS to the kube-dns
 * pods over UDP and TCP 53) and, when the stack opts in, ingress from the node
 * range (kubelet probes). Only IPv6 appears: peers are selected by label, and
 * the one address block is the plan's node range.
 */
import type { AddonsPlan } from '../plan.js';
import { PART_OF, type K8sObject } from './common.js';

const NETWORKING = 'networking.k8s.io/v1';

function policy(namespace: string, name: string, spec: Record<string, unknown>): K8sObject {
  return { apiVersion: NETWORKING, kind: 'NetworkPolicy', metadata: { name, namespace, labels: { ...PART_OF } }, spec };
}

/** The kube-dns pods, wherever the policy lives. */
export const KUBE_DNS_PEER = {
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
  podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
} as const;

export function policyObjects(p: AddonsPlan): K8sObject[] {
  const out: K8sObject[] = [];
  for (const ns of p.config.networkPolicy.namespaces) {
    out.push(policy(ns, 'flat6-default-deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }));
    out.push(
      policy(ns, 'flat6-allow-dns', {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [{ to: [KUBE_DNS_PEER], ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] }],
      }),
    );
    if (p.config.networkPolicy.allowNodeRange) {
      out.push(policy(ns, 'flat6-allow-node-range', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ ipBlock: { cidr: p.nodeRange } }] }] }));
    }
  }
  return out;
}
