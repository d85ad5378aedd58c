/**
 * What the Pulumi program reads: the stack file Pulumi itself uses
 * (stacks/Pulumi.<stack>.yaml, stackConfigDir in Pulumi.yaml), loaded and
 * checked by the same loader as the CLI so errors point at file:line:col, and
 * cross-checked against the configuration Pulumi passed in (both clouds). Bootstrap secrets
 * come from Pulumi secret config, never from the stack file in plain text.
 * No Pulumi import here: the program hands in what Pulumi gave it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../core/diagnostics.js';
import { packageRoot } from '../../core/package-root.js';
import { validateSecrets, type Secrets } from '../../render/secrets.js';
import { CLUSTER_KEY, loadStack, type LoadedStack } from '../../spec/load.js';

/** The package root (where Pulumi.yaml and stacks/ live). */
export const PROJECT_ROOT = packageRoot(import.meta.url);
export const STACK_CONFIG_DIR = 'stacks';

/** Pulumi's project directory (where Pulumi.yaml is); the package root when Pulumi names none (unit tests under mocks). */
export function projectRoot(fromPulumi: string | undefined): string {
  return fromPulumi && existsSync(join(fromPulumi, 'Pulumi.yaml')) ? fromPulumi : PROJECT_ROOT;
}

export function stackFileOf(rootDir: string, stackName: string): string {
  for (const ext of ['yaml', 'yml']) {
    const p = join(rootDir, STACK_CONFIG_DIR, `Pulumi.${stackName}.${ext}`);
    if (existsSync(p)) return p;
  }
  throw new UsageError(
    `no stack file for stack "${stackName}": expected ${join(rootDir, STACK_CONFIG_DIR, `Pulumi.${stackName}.yaml`)} (Pulumi.yaml sets stackConfigDir: ${STACK_CONFIG_DIR}); create it from stacks/Pulumi.aws-lab.yaml or stacks/Pulumi.oci-lab.yaml`,
  );
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v as Record<string, unknown>)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/** First path where two plain values differ, or undefined. */
export function firstDifference(a: unknown, b: unknown, path = ''): string | undefined {
  if (JSON.stringify(canonical(a)) === JSON.stringify(canonical(b))) return undefined;
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of [...keys].sort()) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      if (d !== undefined) return d;
    }
  }
  return path || '(top level)';
}

/**
 * Load the stack Pulumi runs. `passed` is what Pulumi handed the program for
 * flat6:cluster and each cloud section (keyed by config key); it must equal
 * the file (it does, unless Pulumi was pointed at another file with
 * --config-file). The caller picks the cloud and runs its checks.
 */
export function readStackFile(rootDir: string, stackName: string, passed: Readonly<Record<string, unknown>>): LoadedStack {
  const file = stackFileOf(rootDir, stackName);
  const stack = loadStack(file);
  for (const [key, fromPulumi] of Object.entries(passed)) {
    const fromFile = key === CLUSTER_KEY ? stack.raw : stack.config[key];
    if (fromPulumi === undefined && fromFile === undefined) continue;
    const d = firstDifference(fromPulumi, fromFile);
    if (d !== undefined) {
      throw new UsageError(
        `${key} that Pulumi passed differs from ${file} at ${key}.${d}; run pulumi from the project directory without --config-file, so the program checks the configuration it deploys`,
      );
    }
  }
  return stack;
}

export const SECRET_KEYS = {
  bootstrapToken: 'flat6:bootstrapToken',
  certificateKey: 'flat6:certificateKey',
  caCertHashes: 'flat6:caCertHashes',
} as const;

export const SECRET_SETUP = `set them once per stack (encrypted in the stack file, never in plain text):
  pulumi config set --secret ${SECRET_KEYS.bootstrapToken} "$(printf '%s.%s' "$(openssl rand -hex 3)" "$(openssl rand -hex 8)")"
  pulumi config set --secret ${SECRET_KEYS.certificateKey} "$(openssl rand -hex 32)"`;

/** Bootstrap secrets from Pulumi config values (plain text as Pulumi decrypted them). */
export function secretsFromConfig(values: { bootstrapToken?: string; certificateKey?: string; caCertHashes?: string }): Secrets {
  const missing = (['bootstrapToken', 'certificateKey'] as const).filter((k) => !values[k]).map((k) => SECRET_KEYS[k]);
  if (missing.length) throw new UsageError(`missing secret config ${missing.join(' and ')}: ${SECRET_SETUP}`);
  const hashes = (values.caCertHashes ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  return validateSecrets({ bootstrapToken: values.bootstrapToken, certificateKey: values.certificateKey, caCertHashes: hashes }, `Pulumi config (${SECRET_KEYS.bootstrapToken}, ${SECRET_KEYS.certificateKey})`);
}
