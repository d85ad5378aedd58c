/** The Kubernetes version: one kubeadm v1beta4 serves. */
import type { CheckContext } from './context.js';

/** kubeadm v1beta4 arrived with Kubernetes v1.31 (v1beta3 is deprecated). */
export const MIN_K8S_MINOR = 31;
/** Newest minor this release of flat6 knows kubeadm v1beta4 to serve. */
export const MAX_K8S_MINOR = 36;

export function checkKubernetesVersion(c: CheckContext): void {
  const version = c.spec.kubernetesVersion;
  const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!m) return;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major !== 1 || minor < MIN_K8S_MINOR || minor > MAX_K8S_MINOR) {
    c.add(
      'K8S_VERSION',
      'kubernetesVersion',
      `Kubernetes ${version} is not served by kubeadm's v1beta4 config API as flat6 renders it (supported: v1.${MIN_K8S_MINOR}.0 to v1.${MAX_K8S_MINOR}.x)`,
      `set kubernetesVersion to a v1.${MIN_K8S_MINOR}-v1.${MAX_K8S_MINOR} release, e.g. v1.${MAX_K8S_MINOR - 1}.0`,
    );
  }
}
