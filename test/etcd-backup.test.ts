/**
 * The etcd backup on the real etcd (Debian's etcd-server and etcd-client), as
 * root: etcd runs in a network namespace this test creates, listening only on
 * the IPv6 address of the metal stack's cp1 (2001:db8:1::10) with TLS and
 * client-certificate authentication (certificates made here with openssl).
 * The test runs exactly the commands flat6 renders into cp1's CronJob — the
 * init container's etcdctl argv and the rotation container's sh -c script with
 * its environment — in a private mount namespace where kubeadm's paths
 * (/etc/kubernetes/pki/etcd/..., the backup directory) exist as the pod sees
 * them. Then it restores the newest snapshot into a new data directory,
 * starts etcd on it and reads the key back. Everything is removed afterwards.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { createPlan } from '../src/plan/plan.js';
import { parseStack } from '../src/spec/load.js';
import { renderAddons } from '../src/k8s/render.js';
import { stackText } from './helpers.js';

const IS_ROOT = process.getuid?.() === 0;
const NS = `f6etcd-${process.pid}`;
const ADDR = '2001:db8:1::10';
const CLIENT_URL = `https://[${ADDR}]:2379`;
const PEER_URL = `https://[${ADDR}]:2380`;
const KEY = '/flat6/backup-test';
const VALUE = `written-before-the-snapshot-${process.pid}`;
const KEEP = 2;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): Run {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: opts.env ?? process.env, input: opts.input, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? String(r.error ?? '') };
}

function must(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): string {
  const r = run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The metal stack with add-ons keeping KEEP snapshots: cp1's CronJob (etcd-backup-cp1). */
function cp1CronJob(): { snapshot: string[]; rotate: string[]; env: Record<string, string>; dir: string; pki: Record<string, string> } {
  const metal = stackText('metal');
  if (!metal.includes('      keep: 8 ')) throw new Error('the metal stack no longer sets etcdBackup.keep: 8');
  const text = metal.replace('      keep: 8 ', `      keep: ${KEEP} `);
  const stack = parseStack('Pulumi.metal.yaml', text);
  const files = renderAddons(stack, createPlan(stack));
  const file = files.find((f) => f.path === 'cluster/addons/30-etcd-backup.yaml');
  if (!file) throw new Error('no etcd backup file rendered');
  const cron = parseAllDocuments(file.content)
    .map((d) => d.toJS() as { kind: string; metadata: { name: string }; spec: any })
    .find((o) => o.kind === 'CronJob' && o.metadata.name === 'etcd-backup-cp1');
  if (!cron) throw new Error('no etcd-backup-cp1 CronJob');
  const pod = cron.spec.jobTemplate.spec.template.spec;
  const init = pod.initContainers[0];
  const rotate = pod.containers[0];
  const dir = pod.volumes.find((v: any) => v.name === 'backup').hostPath.path as string;
  const pki: Record<string, string> = {};
  for (const v of pod.volumes) if (v.hostPath?.type === 'File') pki[v.name] = v.hostPath.path;
  return { snapshot: init.command, rotate: rotate.command, env: Object.fromEntries(rotate.env.map((e: any) => [e.name, e.value])), dir, pki };
}

let work = '';
const daemons: ChildProcess[] = [];

function openssl(args: string[]): void {
  must('openssl', args);
}

/** A CA, etcd's server/peer certificate for ADDR, and kubeadm's healthcheck-client certificate. */
function makeCerts(pki: string): void {
  mkdirSync(pki, { recursive: true });
  const ext = (name: string, text: string) => {
    writeFileSync(join(pki, name), text);
    return join(pki, name);
  };
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(pki, 'ca.key'), '-out', join(pki, 'ca.crt'), '-days', '2', '-subj', '/CN=etcd-ca']);
  const leaf = (name: string, cn: string, extText: string) => {
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(pki, `${name}.key`), '-out', join(pki, `${name}.csr`), '-subj', `/CN=${cn}`]);
    openssl(['x509', '-req', '-in', join(pki, `${name}.csr`), '-CA', join(pki, 'ca.crt'), '-CAkey', join(pki, 'ca.key'), '-CAcreateserial', '-out', join(pki, `${name}.crt`), '-days', '2', '-extfile', ext(`${name}.ext`, extText)]);
  };
  leaf('server', 'cp1', `subjectAltName = IP:${ADDR}\nextendedKeyUsage = serverAuth, clientAuth\nkeyUsage = digitalSignature, keyEncipherment\n`);
  leaf('healthcheck-client', 'kube-etcd-healthcheck-client', 'extendedKeyUsage = clientAuth\nkeyUsage = digitalSignature, keyEncipherment\n');
}

function startEtcd(dataDir: string, pki: string, log: string): ChildProcess {
  const args = [
    'netns', 'exec', NS, 'etcd',
    '--name', 'cp1',
    '--data-dir', dataDir,
    '--listen-client-urls', CLIENT_URL,
    '--advertise-client-urls', CLIENT_URL,
    '--listen-peer-urls', PEER_URL,
    '--initial-advertise-peer-urls', PEER_URL,
    '--initial-cluster', `cp1=${PEER_URL}`,
    '--cert-file', join(pki, 'server.crt'), '--key-file', join(pki, 'server.key'),
    '--client-cert-auth', '--trusted-ca-file', join(pki, 'ca.crt'),
    '--peer-cert-file', join(pki, 'server.crt'), '--peer-key-file', join(pki, 'server.key'),
    '--peer-client-cert-auth', '--peer-trusted-ca-file', join(pki, 'ca.crt'),
  ];
  const p = spawn('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d: Buffer) => void (err = (err + d.toString()).slice(-20_000)));
  p.on('exit', () => writeFileSync(log, err));
  daemons.push(p);
  return p;
}

function stop(p: ChildProcess): Promise<void> {
  return new Promise((ok) => {
    if (p.exitCode !== null || p.signalCode !== null) { ok(); return; }
    p.once('exit', () => ok());
    p.kill('SIGTERM');
  });
}

/** etcdctl as the test itself uses it (not flat6's command): the same TLS client identity. */
function etcdctl(pki: string, args: string[]): Run {
  return run('ip', ['netns', 'exec', NS, 'etcdctl', `--endpoints=${CLIENT_URL}`, `--cacert=${join(pki, 'ca.crt')}`, `--cert=${join(pki, 'healthcheck-client.crt')}`, `--key=${join(pki, 'healthcheck-client.key')}`, ...args]);
}

async function waitHealthy(pki: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = etcdctl(pki, ['endpoint', 'health']);
    if (r.code === 0) return;
    if (Date.now() > deadline) throw new Error(`etcd did not become healthy: ${r.stderr}`);
    await new Promise((ok) => setTimeout(ok, 300));
  }
}

/**
 * Run flat6's two commands as the CronJob's pod runs them: in a private mount
 * namespace where /etc and /var/lib are overlays (the host's stay untouched),
 * kubeadm's certificate files sit at their kubeadm paths and the backup
 * directory is this test's.
 */
function runBackupJob(job: ReturnType<typeof cp1CronJob>, pki: string, backup: string): Run {
  const setup = [
    'set -eu',
    `mount -t tmpfs tmpfs "$OVL"`,
    'for d in etc var/lib; do u="$OVL/up-${d%%/*}"; w="$OVL/work-${d%%/*}"; mkdir -p "$u" "$w"; mount -t overlay overlay -o "lowerdir=/$d,upperdir=$u,workdir=$w" "/$d"; done',
    `mkdir -p "$(dirname "$CA")" "$DIR"`,
    `cp "$PKI/ca.crt" "$CA"; cp "$PKI/healthcheck-client.crt" "$CERT"; cp "$PKI/healthcheck-client.key" "$KEY"`,
    `mount --bind "$BACKUP" "$DIR"`,
    // the init container, then the rotation container, each with exactly its rendered argv and environment
    `"$@"`,
    `env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin BACKUP_DIR="$ENV_BACKUP_DIR" KEEP="$ENV_KEEP" "$ROT0" "$ROT1" "$ROT2"`,
  ].join('\n');
  const ovl = mkdtempSync(join(work, 'ovl-'));
  const env = {
    ...process.env,
    OVL: ovl,
    PKI: pki,
    BACKUP: backup,
    DIR: job.dir,
    CA: job.pki['etcd-ca'],
    CERT: job.pki['etcd-client-cert'],
    KEY: job.pki['etcd-client-key'],
    ENV_BACKUP_DIR: job.env['BACKUP_DIR'],
    ENV_KEEP: job.env['KEEP'],
    ROT0: job.rotate[0],
    ROT1: job.rotate[1],
    ROT2: job.rotate[2],
  };
  expect(job.rotate).toHaveLength(3);
  return run('ip', ['netns', 'exec', NS, 'unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', setup, 'flat6-backup-job', ...job.snapshot], { env });
}

describe.skipIf(!IS_ROOT)('etcd backup and restore over IPv6 with TLS (root, real etcd)', () => {
  beforeAll(() => {
    for (const tool of ['etcd', 'etcdctl', 'openssl', 'unshare']) {
      if (run('sh', ['-c', `command -v ${tool}`]).code !== 0) throw new Error(`${tool} is missing: run scripts/install-test-deps.sh (etcd-server, etcd-client, openssl)`);
    }
    work = mkdtempSync(join(tmpdir(), `flat6-etcd-${process.pid}-`));
    must('ip', ['netns', 'add', NS]);
    must('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
    must('ip', ['-n', NS, 'link', 'add', 'f6etcd0', 'type', 'veth', 'peer', 'name', 'f6etcd1']);
    must('ip', ['-n', NS, 'link', 'set', 'f6etcd0', 'up']);
    must('ip', ['-n', NS, 'link', 'set', 'f6etcd1', 'up']);
    must('ip', ['-n', NS, 'addr', 'add', `${ADDR}/64`, 'dev', 'f6etcd0', 'nodad']);
  });

  afterAll(async () => {
    for (const p of daemons) await stop(p);
    run('ip', ['netns', 'del', NS]);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('the rendered command snapshots etcd listening only on [2001:db8:1::10]; the newest snapshot restores and returns the key', async () => {
    const job = cp1CronJob();
    expect(job.snapshot).toContain(`--endpoints=${CLIENT_URL}`);
    expect(job.snapshot.slice(-3, -1)).toEqual(['snapshot', 'save']);
    expect(job.env['KEEP']).toBe(String(KEEP));

    const pki = join(work, 'pki');
    makeCerts(pki);
    const etcd = startEtcd(join(work, 'data'), pki, join(work, 'etcd.log'));
    await waitHealthy(pki);

    // Only the IPv6 node address listens: no wildcard, no loopback, no IPv4.
    const listening = must('ip', ['netns', 'exec', NS, 'ss', '-ltnH']).trim().split('\n').map((l) => l.trim().split(/\s+/)[3]).sort();
    expect(listening).toEqual([`[${ADDR}]:2379`, `[${ADDR}]:2380`]);

    expect(etcdctl(pki, ['put', KEY, VALUE]).code).toBe(0);

    const backup = join(work, 'backup');
    mkdirSync(backup);
    for (let i = 0; i < KEEP + 1; i++) {
      if (i > 0) await new Promise((ok) => setTimeout(ok, 1100)); // snapshot names have one-second resolution
      const r = runBackupJob(job, pki, backup);
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/saved \/var\/lib\/etcd-backup\/etcd-snapshot-\d{8}T\d{6}Z\.db/);
    }
    const snapshots = readdirSync(backup).filter((f) => /^etcd-snapshot-\d{8}T\d{6}Z\.db$/.test(f)).sort();
    expect(snapshots, `keeps ${KEEP}`).toHaveLength(KEEP);
    expect(readdirSync(backup).sort()).toEqual(snapshots); // nothing else left behind
    const newest = join(backup, snapshots[snapshots.length - 1]);
    expect(statSync(newest).mode & 0o777).toBe(0o600);
    expect(statSync(backup).mode & 0o777).toBe(0o700);

    // A change after the snapshot, which the restore must not bring back.
    expect(etcdctl(pki, ['put', `${KEY}-later`, 'after']).code).toBe(0);
    await stop(etcd);

    const restored = join(work, 'restored');
    must('etcdctl', ['snapshot', 'restore', newest, '--data-dir', restored, '--name', 'cp1', '--initial-cluster', `cp1=${PEER_URL}`, '--initial-advertise-peer-urls', PEER_URL]);
    startEtcd(restored, pki, join(work, 'etcd-restored.log'));
    await waitHealthy(pki);
    expect(etcdctl(pki, ['get', '--print-value-only', KEY]).stdout.trim()).toBe(VALUE);
    expect(etcdctl(pki, ['get', '--print-value-only', `${KEY}-later`]).stdout.trim()).toBe('');
  });

  it('a failed snapshot (nothing listens) fails the job and leaves the kept snapshots alone', () => {
    const job = cp1CronJob();
    const backup = join(work, 'backup-none');
    mkdirSync(backup);
    writeFileSync(join(backup, 'etcd-snapshot-20000101T000000Z.db'), 'old');
    // etcdctl retries until its command timeout (600 s as rendered): shortened here, and a port nothing listens on
    const down = { ...job, snapshot: job.snapshot.map((a) => (a.startsWith('--command-timeout=') ? '--command-timeout=3s' : a.replace(`]:2379`, ']:2399'))) };
    const r = runBackupJob(down, join(work, 'pki'), backup);
    expect(r.code).not.toBe(0);
    expect(r.stdout).not.toContain('saved');
    // etcdctl may leave its .part file; the next successful run removes it
    expect(readdirSync(backup).filter((f) => f !== '.snapshot.db.part')).toEqual(['etcd-snapshot-20000101T000000Z.db']);
  });
});
