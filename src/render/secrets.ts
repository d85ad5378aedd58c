/**
 * Bootstrap secrets: the bootstrap token and the certificate key never live in
 * git. They come from the environment, a secrets file, or are generated once
 * and kept owner-only beside the rendered output.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { Document, parse } from 'yaml';
import { UsageError } from '../core/diagnostics.js';

export interface Secrets {
  bootstrapToken: string;
  certificateKey: string;
  /** sha256:<hex> pins of the cluster CA for discovery; empty = CA not pinned */
  caCertHashes: string[];
}

export const TOKEN_RE = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;
export const CERT_KEY_RE = /^[0-9a-f]{64}$/;
export const CA_HASH_RE = /^sha256:[0-9a-f]{64}$/;

export const SECRETS_ENV = {
  token: 'FLAT6_BOOTSTRAP_TOKEN',
  certificateKey: 'FLAT6_CERTIFICATE_KEY',
  caCertHashes: 'FLAT6_CA_CERT_HASHES',
} as const;

const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
function randomAlnum(n: number): string {
  // Rejection sampling keeps the distribution uniform over 36 symbols.
  let out = '';
  while (out.length < n) {
    for (const b of randomBytes(n * 2)) {
      if (b < 252 && out.length < n) out += ALNUM[b % 36];
    }
  }
  return out;
}

export function generateSecrets(): Secrets {
  return { bootstrapToken: `${randomAlnum(6)}.${randomAlnum(16)}`, certificateKey: randomBytes(32).toString('hex'), caCertHashes: [] };
}

/**
 * Check secrets of unknown shape (a YAML file, the environment): each must be a
 * string of its exact form, caCertHashes a list of such strings. Every problem
 * is listed; a value is never echoed (it may be a real secret), only its type.
 */
export function validateSecrets(s: Record<string, unknown>, source: string): Secrets {
  const problems: string[] = [];
  const token = s['bootstrapToken'];
  const key = s['certificateKey'];
  const hashesRaw = s['caCertHashes'];
  const kind = (v: unknown): string => (v === null || v === undefined ? 'missing' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a mapping' : typeof v === 'string' ? 'a string of the wrong form' : `a ${typeof v}`);
  if (typeof token !== 'string' || !TOKEN_RE.test(token)) problems.push(`bootstrapToken (${kind(token)}) must be a string matching [a-z0-9]{6}.[a-z0-9]{16} (generate one with "kubeadm token generate")`);
  if (typeof key !== 'string' || !CERT_KEY_RE.test(key)) problems.push(`certificateKey (${kind(key)}) must be a string of 64 lower-case hex characters (32 bytes; "kubeadm certs certificate-key")`);
  let hashes: string[] = [];
  if (hashesRaw !== undefined && hashesRaw !== null) {
    if (!Array.isArray(hashesRaw)) problems.push(`caCertHashes (${kind(hashesRaw)}) must be a list of sha256:<64 hex> strings, e.g. caCertHashes: ["sha256:..."]`);
    else {
      hashesRaw.forEach((h, i) => {
        if (typeof h !== 'string' || !CA_HASH_RE.test(h)) problems.push(`caCertHashes[${i}] (${typeof h === 'string' ? JSON.stringify(h.slice(0, 80)) : kind(h)}) must be sha256:<64 hex>`);
      });
      hashes = hashesRaw as string[];
    }
  }
  const unknown = Object.keys(s).filter((k) => !['bootstrapToken', 'certificateKey', 'caCertHashes'].includes(k));
  if (unknown.length) problems.push(`unknown key(s) ${unknown.map((k) => JSON.stringify(k.slice(0, 80))).join(', ')}: a secrets file holds only bootstrapToken, certificateKey and caCertHashes`);
  if (problems.length) throw new UsageError(`invalid secrets from ${source}:\n  - ${problems.join('\n  - ')}`);
  return { bootstrapToken: token as string, certificateKey: key as string, caCertHashes: [...hashes] };
}

/** Secrets files are tiny; anything larger is not one. */
const MAX_SECRETS_BYTES = 64 * 1024;

export function secretsFromFile(path: string): Secrets {
  let doc: unknown;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new UsageError(`secrets file ${path} is not a regular file; pass a YAML file with bootstrapToken and certificateKey`);
    if (st.size > MAX_SECRETS_BYTES) throw new UsageError(`secrets file ${path} is ${st.size} bytes; a secrets file is a few lines of YAML (at most ${MAX_SECRETS_BYTES} bytes)`);
    if ((st.mode & 0o077) !== 0) {
      throw new UsageError(`secrets file ${path} is readable by group or others (mode ${(st.mode & 0o777).toString(8)}); run: chmod 600 ${path}`);
    }
    doc = parse(readFileSync(path, 'utf8'), { maxAliasCount: 10, uniqueKeys: true });
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read secrets file ${path}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new UsageError(`secrets file ${path} must be a YAML mapping with bootstrapToken and certificateKey`);
  return validateSecrets(doc as Record<string, unknown>, path);
}

/** FLAT6_CA_CERT_HASHES (comma-separated), validated; undefined when unset or empty. */
export function caHashesFromEnv(env: NodeJS.ProcessEnv): string[] | undefined {
  const text = env[SECRETS_ENV.caCertHashes];
  const hashes = text ? text.split(',').map((h) => h.trim()).filter(Boolean) : [];
  if (hashes.length === 0) return undefined;
  const bad = hashes.filter((h) => !CA_HASH_RE.test(h));
  if (bad.length) throw new UsageError(`invalid secrets from environment (${SECRETS_ENV.caCertHashes}):\n  - ${bad.map((h) => `caCertHashes entry "${h}" must be sha256:<64 hex>`).join('\n  - ')}`);
  return hashes;
}

export function secretsFromEnv(env: NodeJS.ProcessEnv): Secrets | undefined {
  const token = env[SECRETS_ENV.token];
  const key = env[SECRETS_ENV.certificateKey];
  if (!token && !key) return undefined;
  return validateSecrets(
    { bootstrapToken: token, certificateKey: key, caCertHashes: caHashesFromEnv(env) ?? [] },
    `environment (${SECRETS_ENV.token}, ${SECRETS_ENV.certificateKey})`,
  );
}

export interface SecretsChoice {
  /** what the render uses: the chosen secrets plus any FLAT6_CA_CERT_HASHES pins */
  secrets: Secrets;
  /** where they came from, for the user */
  source: string;
  /** set when flat6 generated them: write these (without environment pins) to <out>/secrets.yaml */
  persist?: Secrets;
}

/** Union of two pin lists, first-seen order. */
function mergeHashes(a: string[], b: string[]): string[] {
  return [...new Set([...a, ...b])];
}

/**
 * Order: --secrets FILE, then the environment, then <out>/secrets.yaml from an
 * earlier render (so re-rendering is stable), then freshly generated.
 * FLAT6_CA_CERT_HASHES alone adds CA pins to whichever of these is chosen.
 * An existing <out>/secrets.yaml is not rewritten here: the directory sink
 * carries it into the new tree unchanged.
 */
export function chooseSecrets(opts: { file?: string; env: NodeJS.ProcessEnv; previous?: string }): SecretsChoice {
  const envHashes = caHashesFromEnv(opts.env) ?? [];
  const withPins = (s: Secrets): Secrets => ({ ...s, caCertHashes: mergeHashes(s.caCertHashes, envHashes) });
  if (opts.file) return { secrets: withPins(secretsFromFile(opts.file)), source: opts.file };
  const fromEnv = secretsFromEnv(opts.env);
  if (fromEnv) return { secrets: fromEnv, source: 'environment' };
  if (opts.previous && existsSync(opts.previous)) return { secrets: withPins(secretsFromFile(opts.previous)), source: opts.previous };
  const fresh = generateSecrets();
  return { secrets: withPins(fresh), source: 'generated', persist: fresh };
}

export function secretsYaml(s: Secrets): string {
  const doc = new Document({ bootstrapToken: s.bootstrapToken, certificateKey: s.certificateKey });
  const pins = doc.createNode(s.caCertHashes);
  pins.flow = s.caCertHashes.length === 0;
  doc.set('caCertHashes', pins);
  doc.commentBefore = ' flat6 bootstrap secrets. Owner-only (0600). Never commit this file.';
  return doc.toString({ defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN', flowCollectionPadding: false });
}
