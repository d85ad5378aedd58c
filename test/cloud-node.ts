/**
 * Helpers the cloud tests share (AWS and OCI): temporary directories, the
 * kubeadm documents of a rendered file, a node's user data staged into a
 * directory tree with a fake /sys/class/net, and a boot script's `prepare`
 * run with python3 against a metadata service on loopback.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, expect } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { fileURLToPath } from 'node:url';
import { loadAwsStack, type AwsStack } from '../src/cloud/aws/config.js';
import type { FileEntry } from '../src/render/files.js';
import { parseStack } from '../src/spec/load.js';
import { SENTINEL_HOSTNAME, SENTINEL_INTERFACE } from '../src/cloud/shared/sentinels.js';

const temps: string[] = [];
afterAll(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A temporary directory removed after the test file. */
export function tempDir(label: string): string {
  const d = mkdtempSync(join(tmpdir(), `flat6-cloud-${process.pid}-${label}-`));
  temps.push(d);
  return d;
}

/** Every document of a kubeadm file, each parsed without errors. */
export function kubeadmDocs(text: string): Array<Record<string, any>> {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) throw new Error('no documents');
  for (const d of docs) expect(d.errors).toEqual([]);
  return docs.map((d) => d.toJS() as Record<string, any>);
}

/** The write_files of a #cloud-config document by path; its runcmd must be exactly `runcmd`. */
export function writeFilesOf(text: string, runcmd: string[][]): Map<string, { content: string; permissions: string }> {
  expect(text.split('\n')[0]).toBe('#cloud-config');
  const doc = parse(text) as { write_files: Array<{ path: string; permissions: string; content: string }>; runcmd: string[][] };
  expect(doc.runcmd).toEqual(runcmd);
  return new Map(doc.write_files.map((f) => [f.path, { content: f.content, permissions: f.permissions }]));
}

/** The node's files under a fresh root, and a /sys/class/net holding `uplink` with `mac` (and lo). */
export function stageNode(files: readonly FileEntry[], configPath: string, uplink: string, mac: string): { root: string; config: string; sys: string } {
  const root = tempDir('root');
  for (const f of files) {
    const p = join(root, f.path);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, f.content, { mode: f.mode });
  }
  const sys = join(tempDir('sys'), 'class', 'net');
  for (const [name, address] of [
    [uplink, mac],
    ['lo', '00:00:00:00:00:00'],
  ]) {
    mkdirSync(join(sys, name), { recursive: true });
    writeFileSync(join(sys, name, 'address'), `${address}\n`);
  }
  return { root, config: join(root, configPath.replace(/^\//, '')), sys };
}

/** `python3 <root>/<script> prepare --config <config> --root <root>` with the metadata service at [::1]:port. */
export function runPrepare(script: string, staged: { root: string; config: string; sys: string }, port: number, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const { root, config, sys } = staged;
  return new Promise((ok, fail) => {
    const p = spawn('python3', [join(root, script.replace(/^\//, '')), 'prepare', '--config', config, '--root', root], {
      env: { ...process.env, FLAT6_IMDS_ENDPOINT: `http://[::1]:${port}`, FLAT6_SYS_CLASS_NET: sys, ...env },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', fail);
    p.on('close', (code) => ok({ code: code ?? -1, stdout, stderr }));
  });
}

// ---------------------------------------------------------------------------
// The bundled AWS lab stack, as the AWS tests use it
// ---------------------------------------------------------------------------

/** After a boot script's prepare step: none of the build-time stand-ins (hostname, interface, address block) is left in `files` under `root`. */
export function expectNoStandIns(root: string, files: readonly string[]): void {
  for (const f of files) {
    const text = readFileSync(join(root, f), 'utf8');
    expect(text).not.toContain(SENTINEL_HOSTNAME);
    expect(text).not.toContain(SENTINEL_INTERFACE);
    expect(text).not.toContain('2001:db8:ffff:fff6');
  }
}

export const AWS_LAB_FILE = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'stacks', 'Pulumi.aws-lab.yaml');
export const AWS_LAB_TEXT = readFileSync(AWS_LAB_FILE, 'utf8');
/** Stands for the /56 Amazon assigns (documentation range). */
export const AWS_VPC = '2001:db8:a100::/56';
/** Stands for the API load balancer's DNS name. */
export const AWS_NLB_DNS = 'internal-api-nlb-0123abcdef.elb.us-east-2.amazonaws.com';
/** Fake, fixed secrets with no CA pins. */
export const AWS_SECRETS = {
  bootstrapToken: 'abcdef.0123456789abcdef',
  certificateKey: '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
  caCertHashes: [] as string[],
};

/** The AWS lab stack (or `text` in its place), loaded and checked. */
export function awsLab(text = AWS_LAB_TEXT): AwsStack {
  return loadAwsStack(parseStack(AWS_LAB_FILE, text));
}
