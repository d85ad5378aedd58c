/**
 * The `flat6:addons` section, declared once: the in-cluster add-ons (CoreDNS
 * for IPv6-only, the zero-trust NetworkPolicy baseline, etcd backups over
 * IPv6, the flat-network conformance check), their settings, and how
 * `pulumi up` reaches the cluster. Its TypeScript type, JSON Schema, defaults
 * and the field tables of docs/stack.md come from this declaration.
 */
import { z } from 'zod';
import { dnsLabel, int, ipv6Prefix, pattern } from '../spec/fields.js';
import { defineSection } from '../spec/section.js';

export const ADDONS_KEY = 'flat6:addons';

/**
 * An OCI image reference: registry host (a name, or an IPv6 literal in
 * brackets) with an optional port, repository path, optional tag, optional
 * sha256 digest. No spaces, quotes or YAML syntax can pass.
 */
const HOST = String.raw`(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:]{2,39}\])(?::[0-9]{1,5})?`;
const PATH_SEGMENT = String.raw`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`;
export const IMAGE_REF = new RegExp(String.raw`^(?=.{1,400}$)${HOST}(?:/${PATH_SEGMENT})+(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?@sha256:[0-9a-f]{64}$`);
/** A registry (and optional path prefix) that replaces the registry part of every default image. */
export const REGISTRY = new RegExp(String.raw`^(?=.{1,200}$)${HOST}(?:/${PATH_SEGMENT})*$`);
/** A CronJob schedule: five cron fields of digits, "*", "/", ",", "-", or one of the @ macros. */
export const CRON = /^(?:(?:[0-9*/,-]{1,40} ){4}[0-9*/,-]{1,40}|@(?:yearly|annually|monthly|weekly|daily|midnight|hourly))$/;
/** An absolute host path without "..", white space or shell/YAML syntax. */
export const HOST_PATH = /^(?!.*\/\.\.?(?:\/|$))\/[A-Za-z0-9._/-]{1,200}$/;
/** A kubeconfig file path for `pulumi up` (relative to the project directory, or absolute). */
export const KUBECONFIG_PATH = /^(?!.*(?:^|\/)\.\.(?:\/|$))[A-Za-z0-9._/@+-]{1,400}$/;
/** A kubeconfig context name. */
export const CONTEXT_NAME = /^[A-Za-z0-9@._:-]{1,253}$/;

const image = (what: string) =>
  pattern(IMAGE_REF, 'an image reference pinned by digest (registry/path[:tag]@sha256:<64 hex digits>)')
    .optional()
    .describe(`${what} Must be pinned by digest: registry/path[:tag]@sha256:<64 hex digits>.`);

const kubeconfig = z
  .strictObject({
    source: z
      .enum(['secret', 'file'])
      .default('secret')
      .describe('secret: the kubeconfig text in the Pulumi secret config flat6:kubeconfig (pulumi config set --secret flat6:kubeconfig < admin.conf). file: the kubeconfig file at path.'),
    path: pattern(KUBECONFIG_PATH, 'a file path (letters, digits and ._/@+-, no "..")')
      .optional()
      .describe('With source file: the kubeconfig file, relative to the project directory (where Pulumi.yaml is) or absolute.'),
    context: pattern(CONTEXT_NAME, 'a kubeconfig context name (letters, digits and @._:-)').optional().describe('Context of the kubeconfig to use (default: its current-context).'),
  })
  .describe('How `pulumi up` reaches the cluster to create the add-ons. flat6 render ignores it.');

const images = z
  .strictObject({
    registry: pattern(REGISTRY, 'a registry host[:port] with an optional path, e.g. mirror.example.net:5000/k8s')
      .optional()
      .describe('Pull every default image from this registry (an IPv6-reachable mirror, or an air-gapped one) instead of registry.k8s.io; the repository path and digest stay, so a mirror made with a digest-preserving copy (crane copy, skopeo copy --all) serves the same bytes.'),
    coredns: image('CoreDNS image.'),
    etcd: image('Image with etcdctl for the etcd backup.'),
    busybox: image('Image with a POSIX shell for snapshot rotation.'),
    agnhost: image('Image of the conformance echo server and checker (bash, curl, dig, ping, awk).'),
  })
  .describe('Container images. Defaults are pinned by digest on registry.k8s.io (reachable over IPv6); see docs/addons.md.');

const dns = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Manage CoreDNS (kube-system: coredns ConfigMap, Deployment, kube-dns Service at the 10th service address, RBAC) in kubeadm\'s names.'),
    nat64Prefix: ipv6Prefix(
      'NAT64 prefix of the site (e.g. 64:ff9b::/96; RFC 6052 lengths /32, /40, /48, /56, /64, /96): CoreDNS\'s dns64 plugin then synthesises AAAA records for IPv4-only names. Bare metal with a NAT64 gateway only; on AWS the VPC resolver does DNS64 and this is refused.',
    ).optional(),
    replicas: int(1, 100).default(2).describe('CoreDNS replicas.'),
    cacheSeconds: int(0, 3600).default(30).describe('Longest time CoreDNS caches an answer.'),
  })
  .describe('CoreDNS for an IPv6-only cluster: forwards to flat6:cluster network.dns, listens only on its pod address.');

const networkPolicy = z
  .strictObject({
    namespaces: z
      .array(dnsLabel('A namespace name.'))
      .max(200)
      .default([])
      .refine((ns) => new Set(ns).size === ns.length, 'lists a namespace twice')
      .describe('Namespaces that get the zero-trust baseline: deny all ingress and egress, allow DNS to kube-dns (UDP and TCP 53).'),
    allowNodeRange: z
      .boolean()
      .default(false)
      .describe('Also allow ingress from flat6:cluster network.nodes (kubelet probes, node-local agents) to every pod of those namespaces.'),
  })
  .describe('Zero-trust NetworkPolicy baseline per namespace, in IPv6 terms only.');

const etcdBackup = z
  .strictObject({
    enabled: z.boolean().default(true).describe('One CronJob per control-plane node that snapshots etcd over https://[node address]:2379 with kubeadm\'s etcd client certificate.'),
    schedule: pattern(CRON, 'a cron schedule (five fields of digits and * / , -, or @hourly/@daily/...)').default('17 */6 * * *').describe('When to take a snapshot (CronJob schedule, the kube-controller-manager\'s time zone).'),
    keep: int(1, 1000).default(8).describe('Snapshots kept on each control-plane node; older ones are removed after each successful snapshot.'),
    directory: pattern(HOST_PATH, 'an absolute path (letters, digits and ._/-, no "..")').default('/var/lib/etcd-backup').describe('Directory on each control-plane node that holds the snapshots (0700, files 0600).'),
  })
  .describe('etcd snapshots over IPv6 on every control-plane node (docs/addons.md: restore).');

const conformance = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Render the flat-network conformance check: an echo DaemonSet and a Job that checks every rack pair.'),
    pairsPerRackPair: int(1, 16).default(1).describe('Node pairs sampled for each pair of racks.'),
    timeoutSeconds: int(60, 86400).default(600).describe('How long the Job waits for every echo pod to be ready before it fails.'),
  })
  .describe('The flat-network conformance check (docs/addons.md).');

export const addonsSchema = z.strictObject({
  kubeconfig: kubeconfig.prefault({}),
  images: images.prefault({}),
  dns: dns.prefault({}),
  networkPolicy: networkPolicy.prefault({}),
  etcdBackup: etcdBackup.prefault({}),
  conformance: conformance.prefault({}),
});

export type AddonsConfig = z.output<typeof addonsSchema>;

export const ADDONS_SECTION = defineSection(ADDONS_KEY, addonsSchema, {
  id: 'https://flat6.dev/schema/addons.json',
  description:
    'The in-cluster add-ons of a stack (config: flat6:addons): CoreDNS, NetworkPolicies, etcd backups and the conformance check, written by flat6 render to cluster/addons/ and created by the Pulumi program. Present means on; every manifest comes from the plan of flat6:cluster.',
});
