/**
 * Strict structural validator for the Kubernetes configuration documents flat6 renders, and the
 * product check `flat6 render` runs on kubeadm files rendered from an operator's template overlay.
 *
 * Upstream version: kubeadm.k8s.io/v1beta4 as served by Kubernetes v1.31 – v1.36, kubelet and
 * kube-proxy configuration of Kubernetes v1.36.3.
 *
 * The schema is data: a small type-descriptor DSL (dsl.ts: obj / str / bool / int32 / list / map /
 * anyOf / opaque) plus named semantic checks (checks.ts). Every object is closed: a key that is not
 * listed is reported, which is how a misspelt or misplaced field fails. Written from the upstream
 * references (no upstream code is copied):
 *
 *   kubeadm.k8s.io/v1beta4
 *     kubernetes/kubernetes  cmd/kubeadm/app/apis/kubeadm/v1beta4/types.go            (Kubernetes v1.31 – v1.36)
 *     kubernetes/kubernetes  cmd/kubeadm/app/apis/kubeadm/validation/validation.go    (semantic rules, cited by name)
 *     kubernetes/kubernetes  cmd/kubeadm/app/constants/constants.go                   (subnet / key size limits)
 *     kubernetes/kubernetes  cmd/kubeadm/app/util/marshal.go  SplitConfigDocuments    (one document per kind)
 *     kubernetes/website     content/en/docs/reference/config-api/kubeadm-config.v1beta4.md
 *   kubelet.config.k8s.io/v1beta1
 *     kubernetes/kubelet (staging/src/k8s.io/kubelet) config/v1beta1/types.go         tag v0.36.3 (Kubernetes v1.36.3)
 *     kubernetes/website     content/en/docs/reference/config-api/kubelet-config.v1beta1.md
 *   kubeproxy.config.k8s.io/v1alpha1
 *     kubernetes/kube-proxy (staging/src/k8s.io/kube-proxy) config/v1alpha1/types.go  tag v0.36.3 (Kubernetes v1.36.3)
 *     kubernetes/kubernetes  pkg/proxy/apis/config/validation/validation.go
 *     kubernetes/website     content/en/docs/reference/config-api/kube-proxy-config.v1alpha1.md
 *   shared component-base types (logging, tracing, client connection):
 *     kubernetes/component-base logs/api/v1/types.go, tracing/api/v1/types.go, config/v1alpha1/types.go  tag v0.36.3
 *
 * Where this validator is deliberately stricter than upstream it says so next to the rule
 * ("flat6:"): JSON null is rejected everywhere (omit the field instead), endpoints must carry an
 * explicit port, and a few cross-document consistency rules are enforced in validateKubeadmFile.
 *
 * Deliberately shallow: EnvVar.valueFrom (core/v1 EnvVarSource) is only checked to be an object;
 * map keys of featureGates are not checked against a list of known gates (the set changes every
 * release); TLS cipher-suite names and CPU/topology-manager policy option keys are free strings.
 *
 * Modules: dsl.ts (descriptor types), values.ts (IP/CIDR through src/core/ip.ts, host:port, DNS
 * names, durations), checks.ts (named checks), common.ts / kubeadm.ts / kubelet.ts / kubeproxy.ts
 * (the field tables), walk.ts (one document), file.ts (a file of documents), check.ts (YAML text to
 * located diagnostics).
 */

export type { SchemaIssue } from './dsl.js';
export { validateKubeDocument } from './walk.js';
export { validateKubeadmFile } from './file.js';
export { checkKubeadmFile } from './check.js';
