/**
 * Port layout of the API endpoint. With keepalived-haproxy, haproxy listens on
 * :::port and kube-apiserver on ::apiServerPort on the same host: Linux refuses
 * two listeners on one port, so they must differ. Neither may take a port the
 * control-plane components already use.
 */
import { defaultApiServerPort } from '../../spec/load.js';
import type { CheckContext } from './context.js';

/** Ports a kubeadm control-plane node already listens on (etcd, kubelet, kube-proxy, controller-manager, scheduler). */
export const CONTROL_PLANE_HOST_PORTS: ReadonlyMap<number, string> = new Map([
  [2379, 'etcd client'],
  [2380, 'etcd peer'],
  [2381, 'etcd metrics'],
  [10248, 'kubelet healthz'],
  [10249, 'kube-proxy metrics'],
  [10250, 'kubelet API'],
  [10256, 'kube-proxy healthz'],
  [10257, 'kube-controller-manager'],
  [10259, 'kube-scheduler'],
]);

export function checkPorts(c: CheckContext): void {
  const cp = c.spec.controlPlane;
  const ha = cp.loadBalancer === 'keepalived-haproxy';
  const spare = defaultApiServerPort('keepalived-haproxy', cp.port);
  if (ha && cp.port === cp.apiServerPort) {
    c.add(
      'PORT_CONFLICT',
      'controlPlane.apiServerPort',
      `controlPlane.apiServerPort ${cp.apiServerPort} equals controlPlane.port: haproxy listens on :::${cp.port} on every control-plane node, so kube-apiserver cannot bind the same port there`,
      `give kube-apiserver its own port, e.g. apiServerPort: ${spare} (controlPlaneEndpoint stays [vip]:${cp.port}), or set loadBalancer: none if a load balancer outside the cluster serves the VIP`,
    );
  }
  const ports: Array<[string, number, boolean]> = [
    ['controlPlane.port', cp.port, ha],
    ['controlPlane.apiServerPort', cp.apiServerPort, true],
  ];
  for (const [path, port, onHost] of ports) {
    const user = CONTROL_PLANE_HOST_PORTS.get(port);
    if (onHost && user) {
      c.add('PORT_CONFLICT', path, `${path.split('.')[1]} ${port} is the ${user} port of every control-plane node`, `pick a free port, e.g. ${path.endsWith('apiServerPort') ? (ha ? spare : 6443) : 6443}`);
    }
  }
}
