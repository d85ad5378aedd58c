/**
 * The images the add-ons run, pinned by digest. Every default lives on
 * registry.k8s.io, which answers over IPv6 (many registries do not: an
 * IPv6-only node reaches them only through NAT64). Digests are the image
 * index digests of the Kubernetes image promoter's manifests
 * (kubernetes/k8s.io registry.k8s.io/images/k8s-staging-<project>/images.yaml)
 * or, for CoreDNS v1.12.1, the digest public deployments pin; docs/addons.md
 * lists where each one comes from and how to mirror them.
 */
import type { AddonsConfig } from './section.js';

export const DEFAULT_REGISTRY = 'registry.k8s.io';

/** Repository path (below the registry), tag and digest of each default image. */
export const DEFAULT_IMAGES = {
  /** CoreDNS 1.12.1: forward, cache, kubernetes and dns64 plugins */
  coredns: 'coredns/coredns:v1.12.1@sha256:e8c262566636e6bc340ece6473b0eed193cad045384401529721ddbe6463d31c',
  /** etcd 3.5.7 image: etcdctl only (the v3 snapshot API is the same for etcd 3.5 and 3.6 servers) */
  etcd: 'etcd:3.5.7-0@sha256:51eae8381dcb1078289fa7b4f3df2630cdc18d09fb56f8e56b41c40e191d6c83',
  /** BusyBox 1.37.0 (e2e-test-images): sh, date, mv, ls, sort, tail for snapshot rotation */
  busybox: 'e2e-test-images/busybox:1.37.0-2@sha256:690925c6f3493b235eb590113f8c481564dcd4f1962cf7d5b321f185980721ef',
  /** agnhost 2.53 (e2e-test-images): netexec echo server; bash, curl, dig, ping, awk for the checker */
  agnhost: 'e2e-test-images/agnhost:2.53@sha256:99c6b4bb4a1e1df3f0b3752168c89358794d02258ebebc26bf21c29399011a85',
} as const;

export type ImageName = keyof typeof DEFAULT_IMAGES;
export type Images = Record<ImageName, string>;

/** The image of each add-on: the stack's own reference, else the default on images.registry (registry.k8s.io). */
export function resolveImages(cfg: AddonsConfig['images']): Images {
  const registry = cfg.registry ?? DEFAULT_REGISTRY;
  const out = {} as Images;
  for (const name of Object.keys(DEFAULT_IMAGES) as ImageName[]) out[name] = cfg[name] ?? `${registry}/${DEFAULT_IMAGES[name]}`;
  return out;
}
