/**
 * etcd backups over IPv6: one CronJob per control-plane node, pinned to that
 * node, on the host network. Its init container runs etcdctl against the
 * node's own etcd at https://[node address]:2379 with kubeadm's etcd client
 * certificate (mounted file by file, read-only: the etcd CA key stays out of
 * the pod); then a shell container names the snapshot by time and keeps the
 * newest N. docs/addons.md has the restore procedure.
 */
import { createHash } from 'node:crypto';
import type { AddonsPlan, ControlPlaneTarget } from '../plan.js';
import { CONTROL_PLANE_TOLERATION, FLAT6_NAMESPACE, labels, lockedDown, type K8sObject } from './common.js';

/** kubeadm's etcd PKI on every control-plane node. */
export const ETCD_PKI = '/etc/kubernetes/pki/etcd';
export const ETCD_CLIENT_FILES = { cacert: `${ETCD_PKI}/ca.crt`, cert: `${ETCD_PKI}/healthcheck-client.crt`, key: `${ETCD_PKI}/healthcheck-client.key` } as const;
/** etcdctl writes here first (it renames its own .part file on success); the rotation gives it its final name. */
export const PARTIAL_NAME = '.snapshot.db';
/** CronJob names are at most 52 characters (the Job controller appends 11). */
export const MAX_CRONJOB_NAME = 52;

/**
 * The rotation script (POSIX sh: BusyBox ash in the pod, dash in the tests).
 * It reads only BACKUP_DIR and KEEP from the environment; no stack value is
 * spliced into its text.
 */
export const ROTATE_SCRIPT = `set -eu
umask 077
cd "$BACKUP_DIR"
chmod 0700 .
test -s ${PARTIAL_NAME}
name="etcd-snapshot-$(date -u +%Y%m%dT%H%M%SZ).db"
mv -f ${PARTIAL_NAME} "$name"
rm -f ${PARTIAL_NAME}.part
chmod 0600 "$name"
ls -1 etcd-snapshot-*.db | sort -r | tail -n +$((KEEP + 1)) | while read -r old; do rm -f -- "$old"; done
echo "saved $BACKUP_DIR/$name; $(ls -1 etcd-snapshot-*.db | wc -l) snapshot(s) kept (at most $KEEP)"
`;

/** The CronJob of a node: etcd-backup-<node>, shortened with a hash when the node name is long. */
export function cronJobName(node: string): string {
  const name = `etcd-backup-${node}`;
  if (name.length <= MAX_CRONJOB_NAME) return name;
  const hash = createHash('sha256').update(node).digest('hex').slice(0, 8);
  return `${name.slice(0, MAX_CRONJOB_NAME - 9).replace(/-+$/, '')}-${hash}`;
}

/** etcdctl's argument vector for one node: the exact command the init container runs. */
export function snapshotCommand(p: AddonsPlan, node: ControlPlaneTarget): string[] {
  return [
    'etcdctl',
    `--endpoints=https://[${node.address}]:2379`,
    `--cacert=${ETCD_CLIENT_FILES.cacert}`,
    `--cert=${ETCD_CLIENT_FILES.cert}`,
    `--key=${ETCD_CLIENT_FILES.key}`,
    '--dial-timeout=10s',
    '--command-timeout=600s',
    'snapshot',
    'save',
    `${p.config.etcdBackup.directory}/${PARTIAL_NAME}`,
  ];
}

function fileVolume(name: string, path: string): Record<string, unknown> {
  return { name, hostPath: { path, type: 'File' } };
}

export function etcdBackupObjects(p: AddonsPlan): K8sObject[] {
  const b = p.config.etcdBackup;
  const dir = b.directory;
  return p.controlPlanes.map((node) => ({
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: cronJobName(node.name), namespace: FLAT6_NAMESPACE, labels: { ...labels('etcd-backup'), 'flat6.dev/node': node.name } },
    spec: {
      schedule: b.schedule,
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: 3600,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        spec: {
          backoffLimit: 2,
          activeDeadlineSeconds: 1800,
          template: {
            metadata: { labels: { ...labels('etcd-backup'), 'flat6.dev/node': node.name } },
            spec: {
              restartPolicy: 'Never',
              hostNetwork: true,
              automountServiceAccountToken: false,
              priorityClassName: 'system-node-critical',
              nodeSelector: { 'kubernetes.io/hostname': node.name },
              tolerations: [CONTROL_PLANE_TOLERATION],
              initContainers: [
                {
                  name: 'snapshot',
                  image: p.images.etcd,
                  imagePullPolicy: 'IfNotPresent',
                  command: snapshotCommand(p, node),
                  securityContext: lockedDown([], false),
                  volumeMounts: [
                    { name: 'etcd-ca', mountPath: ETCD_CLIENT_FILES.cacert, readOnly: true },
                    { name: 'etcd-client-cert', mountPath: ETCD_CLIENT_FILES.cert, readOnly: true },
                    { name: 'etcd-client-key', mountPath: ETCD_CLIENT_FILES.key, readOnly: true },
                    { name: 'backup', mountPath: dir },
                  ],
                },
              ],
              containers: [
                {
                  name: 'rotate',
                  image: p.images.busybox,
                  imagePullPolicy: 'IfNotPresent',
                  command: ['sh', '-c', ROTATE_SCRIPT],
                  env: [
                    { name: 'BACKUP_DIR', value: dir },
                    { name: 'KEEP', value: String(b.keep) },
                  ],
                  securityContext: lockedDown([], false),
                  volumeMounts: [{ name: 'backup', mountPath: dir }],
                },
              ],
              volumes: [
                fileVolume('etcd-ca', ETCD_CLIENT_FILES.cacert),
                fileVolume('etcd-client-cert', ETCD_CLIENT_FILES.cert),
                fileVolume('etcd-client-key', ETCD_CLIENT_FILES.key),
                { name: 'backup', hostPath: { path: dir, type: 'DirectoryOrCreate' } },
              ],
            },
          },
        },
      },
    },
  }));
}
