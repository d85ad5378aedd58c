/**
 * Every finding code of `flat6 audit`: its default severity, a title (SARIF's
 * short description) and the default fix. Codes are stable: tools and CI
 * suppressions key on them. docs/audit.md explains each with a before/after
 * example (a test keeps the two lists equal).
 */
import type { Severity } from './types.js';

export interface CodeInfo {
  severity: Severity;
  title: string;
  fix: string;
}

export const CODES = {
  SERVICE_IPV4_FAMILY: {
    severity: 'blocker',
    title: 'Service asks for the IPv4 family',
    fix: 'set ipFamilies: [IPv6] (or drop ipFamilies: the cluster default is IPv6)',
  },
  SERVICE_REQUIRE_DUAL_STACK: {
    severity: 'blocker',
    title: 'Service requires dual-stack',
    fix: 'set ipFamilyPolicy: SingleStack with ipFamilies: [IPv6]',
  },
  SERVICE_PREFER_DUAL_STACK: {
    severity: 'warning',
    title: 'Service prefers dual-stack',
    fix: 'set ipFamilyPolicy: SingleStack with ipFamilies: [IPv6], so the Service does not change if the cluster ever gains IPv4',
  },
  SERVICE_IPV4_CLUSTER_IP: {
    severity: 'blocker',
    title: 'Service pins an IPv4 cluster IP',
    fix: 'remove clusterIP/clusterIPs (the cluster allocates an IPv6 one) or pin an address of the IPv6 service range',
  },
  SERVICE_IPV4_EXTERNAL_IP: {
    severity: 'blocker',
    title: 'Service lists an IPv4 external IP',
    fix: 'list IPv6 externalIPs that route to the nodes',
  },
  SERVICE_IPV4_LOAD_BALANCER_IP: {
    severity: 'blocker',
    title: 'Service requests an IPv4 load-balancer IP',
    fix: "remove spec.loadBalancerIP (deprecated) and request an IPv6 address the way the load balancer's controller documents (usually an annotation)",
  },
  LB_STATUS_IPV4_ONLY: {
    severity: 'warning',
    title: 'Load balancer is reachable over IPv4 only',
    fix: 'give the load balancer an IPv6 (or dual-stack) front end; clients on IPv6 cannot reach an IPv4-only address',
  },
  IPV4_WILDCARD_BIND: {
    severity: 'blocker',
    title: 'Binds the IPv4 wildcard 0.0.0.0',
    fix: 'bind to "::" (every address; on Linux it also accepts IPv4 unless bindv6only is set) or "[::]:PORT"',
  },
  IPV4_LITERAL_ADDRESS: {
    severity: 'blocker',
    title: 'Binds to or connects to an IPv4 literal',
    fix: 'use a DNS name, or the IPv6 address of the peer or interface',
  },
  IPV4_CIDR: {
    severity: 'warning',
    title: 'IPv4 range in a setting',
    fix: 'replace the IPv4 range with the IPv6 range it stands for (pod, service or node range; ::/0 for 0.0.0.0/0)',
  },
  JAVA_PREFER_IPV4_STACK: {
    severity: 'blocker',
    title: 'JVM told to use IPv4 only',
    fix: 'remove -Djava.net.preferIPv4Stack=true (the JVM then uses IPv6 sockets)',
  },
  PROBE_IPV4_HOST: {
    severity: 'blocker',
    title: 'Probe or lifecycle hook targets an IPv4 host',
    fix: "remove host (the kubelet then uses the pod's IPv6 address) or set an IPv6 address",
  },
  HOST_ALIAS_IPV4_ONLY: {
    severity: 'blocker',
    title: 'hostAliases map a name to IPv4 only',
    fix: 'map the hostnames to an IPv6 address (hostAliases entries are /etc/hosts lines, which win over DNS)',
  },
  DNS_CONFIG_IPV4_NAMESERVER: {
    severity: 'blocker',
    title: 'Pod dnsConfig lists an IPv4 nameserver',
    fix: 'list IPv6 nameservers only',
  },
  HOST_PORT_IPV4_HOST_IP: {
    severity: 'blocker',
    title: 'hostPort bound to an IPv4 host IP',
    fix: 'remove hostIP (the port is then bound on every node address) or set the IPv6 node address',
  },
  NGINX_LISTEN_IPV4_ONLY: {
    severity: 'blocker',
    title: 'nginx server block listens on IPv4 only',
    fix: 'add "listen [::]:PORT;" (with the same parameters) to the server block, or replace the IPv4 listen with it',
  },
  HAPROXY_BIND_IPV4_ONLY: {
    severity: 'blocker',
    title: 'haproxy bind on IPv4 only',
    fix: 'bind ":::PORT" (or "[::]:PORT"); add "v4v6" if IPv4 clients must still connect',
  },
  COREDNS_FORWARD_IPV4: {
    severity: 'blocker',
    title: 'CoreDNS forwards to an IPv4 resolver',
    fix: 'forward to IPv6 resolvers (e.g. 2001:4860:4860::8888), or to /etc/resolv.conf of IPv6-only nodes',
  },
  NETWORK_POLICY_IPV4_CIDR: {
    severity: 'blocker',
    title: 'NetworkPolicy ipBlock with an IPv4 CIDR',
    fix: 'write the IPv6 range the rule is meant for (::/0 for 0.0.0.0/0); an IPv4 ipBlock matches nothing, so the rule no longer allows what it was written to allow',
  },
  ENDPOINT_SLICE_IPV4: {
    severity: 'blocker',
    title: 'EndpointSlice of addressType IPv4',
    fix: "for slices the EndpointSlice controller manages, make the Service IPv6 single-stack; for slices you write, use addressType: IPv6 with IPv6 endpoints",
  },
  ENDPOINTS_IPV4_ADDRESS: {
    severity: 'blocker',
    title: 'Endpoints with IPv4 addresses',
    fix: 'list IPv6 addresses (or an EndpointSlice with addressType: IPv6)',
  },
  NODE_IPV4_INTERNAL_IP: {
    severity: 'blocker',
    title: 'Node reports an IPv4 InternalIP',
    fix: "start the kubelet with --node-ip set to the node's IPv6 address (flat6 renders it in kubeletExtraArgs)",
  },
  NODE_IPV4_EXTERNAL_IP: {
    severity: 'warning',
    title: 'Node reports an IPv4 ExternalIP',
    fix: "give the node an IPv6 external address, or make sure nothing reaches the node by its IPv4 ExternalIP",
  },
  NODE_IPV4_POD_CIDR: {
    severity: 'blocker',
    title: 'Node has an IPv4 pod CIDR',
    fix: "allocate the node an IPv6 pod prefix (flat6 writes each node's prefix into its CNI config; kube-controller-manager runs with --allocate-node-cidrs=false)",
  },
  COMPONENT_IPV4_BIND: {
    severity: 'blocker',
    title: 'Kubernetes component binds or advertises IPv4',
    fix: 'use "::" to listen on every address, or the IPv6 address of the node; write host:port as [address]:port',
  },
  COMPONENT_IPV4_AUX_BIND: {
    severity: 'warning',
    title: 'Component health or metrics endpoint on IPv4',
    fix: 'bind the endpoint to "[::]:PORT" (or "[::1]:PORT" to keep it local)',
  },
  COMPONENT_IPV4_CIDR: {
    severity: 'blocker',
    title: 'Kubernetes component configured with an IPv4 range',
    fix: "use the cluster's IPv6 pod or service range",
  },
  COMPONENT_IPV4_CLUSTER_DNS: {
    severity: 'blocker',
    title: 'kubelet clusterDNS is IPv4',
    fix: 'set clusterDNS to the IPv6 address of the DNS Service (the 10th address of the service range)',
  },
} as const satisfies Record<string, CodeInfo>;

export type AuditCode = keyof typeof CODES;

export const CODE_LIST = Object.keys(CODES) as AuditCode[];

export function codeInfo(code: AuditCode): CodeInfo {
  return CODES[code];
}
