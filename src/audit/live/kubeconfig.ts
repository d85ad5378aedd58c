/**
 * Reads what live mode needs from a kubeconfig file: the API server of the
 * chosen context, how to trust it and how to authenticate. Supported: CA file
 * or data, insecure-skip-tls-verify, tls-server-name; client certificate and
 * key (file or data), a bearer token (or tokenFile), basic auth, and exec
 * credential plugins (client.authentication.k8s.io v1 and v1beta1), run as
 * kubectl runs them. auth-provider (removed from kubectl in 1.26) and
 * proxy-url are refused with a clear error rather than ignored.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { parseDocument } from 'yaml';
import { arr, isRecord, scalarText, str } from '../types.js';

export class LiveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LiveError';
  }
}

export interface ClusterAccess {
  server: URL;
  context: string;
  ca?: Buffer;
  insecure: boolean;
  servername?: string;
  cert?: Buffer;
  key?: Buffer;
  /** the Authorization header value */
  authorization?: string;
}

interface Named {
  name: string;
  value: Record<string, unknown>;
}

function named(list: unknown, key: string): Named[] {
  return arr(list).flatMap((e) => (isRecord(e) && typeof e['name'] === 'string' && isRecord(e[key]) ? [{ name: e['name'], value: e[key] }] : []));
}

function readBytes(base: string, file: string, what: string): Buffer {
  const p = isAbsolute(file) ? file : join(base, file);
  try {
    return readFileSync(p);
  } catch (e) {
    throw new LiveError(`cannot read ${what} ${p} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function dataOrFile(o: Record<string, unknown>, key: string, base: string, what: string): Buffer | undefined {
  const data = str(o[`${key}-data`]);
  if (data) return Buffer.from(data, 'base64');
  const file = str(o[key]);
  return file ? readBytes(base, file, what) : undefined;
}

export interface ExecOptions {
  env: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** Load the context (or current-context) of a kubeconfig file and resolve its credentials. */
export async function loadKubeconfig(file: string, contextName: string | undefined, opts: ExecOptions): Promise<ClusterAccess> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new LiveError(`cannot read the kubeconfig ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (text.length > 16 * 1024 * 1024) throw new LiveError(`the kubeconfig ${file} is larger than 16 MiB`);
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length) throw new LiveError(`the kubeconfig ${file} is not valid YAML`);
  let cfg: unknown;
  try {
    cfg = doc.toJS({ maxAliasCount: 50 });
  } catch {
    throw new LiveError(`the kubeconfig ${file} cannot be read as data`);
  }
  if (!isRecord(cfg)) throw new LiveError(`the kubeconfig ${file} is not a map`);
  const base = dirname(file);
  const ctxName = contextName ?? str(cfg['current-context']);
  if (!ctxName) throw new LiveError(`the kubeconfig ${file} has no current-context: pass --context NAME`);
  const ctx = named(cfg['contexts'], 'context').find((c) => c.name === ctxName);
  if (!ctx) throw new LiveError(`the kubeconfig ${file} has no context ${JSON.stringify(ctxName)}`);
  const clusterName = str(ctx.value['cluster']);
  const cluster = named(cfg['clusters'], 'cluster').find((c) => c.name === clusterName)?.value;
  if (!cluster) throw new LiveError(`context ${JSON.stringify(ctxName)} names cluster ${JSON.stringify(clusterName ?? '')}, which the kubeconfig does not define`);
  const userName = str(ctx.value['user']);
  const user = userName ? named(cfg['users'], 'user').find((u) => u.name === userName)?.value : {};
  if (!user) throw new LiveError(`context ${JSON.stringify(ctxName)} names user ${JSON.stringify(userName)}, which the kubeconfig does not define`);

  let server: URL;
  try {
    server = new URL(str(cluster['server']) ?? '');
  } catch {
    throw new LiveError(`cluster ${JSON.stringify(clusterName)} has no valid server URL`);
  }
  if (server.protocol !== 'https:' && server.protocol !== 'http:') throw new LiveError(`cluster ${JSON.stringify(clusterName)}: server must be an https:// (or http://) URL`);
  if (cluster['proxy-url']) throw new LiveError(`cluster ${JSON.stringify(clusterName)} sets proxy-url, which flat6 audit does not support: run it where the API server is reachable directly`);

  const access: ClusterAccess = { server, context: ctxName, insecure: cluster['insecure-skip-tls-verify'] === true };
  const ca = dataOrFile(cluster, 'certificate-authority', base, 'certificate-authority');
  if (ca) access.ca = ca;
  const sn = str(cluster['tls-server-name']);
  if (sn) access.servername = sn;

  if (user['auth-provider']) throw new LiveError(`user ${JSON.stringify(userName)} uses an auth-provider, which kubectl removed in 1.26: switch it to an exec credential plugin`);
  const cert = dataOrFile(user, 'client-certificate', base, 'client-certificate');
  const key = dataOrFile(user, 'client-key', base, 'client-key');
  if (cert && key) Object.assign(access, { cert, key });
  const token = str(user['token']) ?? (str(user['tokenFile']) ? readBytes(base, str(user['tokenFile'])!, 'tokenFile').toString('utf8').trim() : undefined);
  if (token) access.authorization = `Bearer ${token}`;
  else if (str(user['username']) && str(user['password'])) access.authorization = `Basic ${Buffer.from(`${str(user['username'])}:${str(user['password'])}`).toString('base64')}`;
  if (isRecord(user['exec'])) await runExec(user['exec'], access, opts);
  return access;
}

/** Run an exec credential plugin (no shell, no stdin) and take its token or client certificate. */
async function runExec(exec: Record<string, unknown>, access: ClusterAccess, opts: ExecOptions): Promise<void> {
  const command = str(exec['command']);
  if (!command) throw new LiveError('the exec credential plugin has no command');
  const apiVersion = str(exec['apiVersion']) ?? 'client.authentication.k8s.io/v1';
  const env: NodeJS.ProcessEnv = { ...opts.env };
  for (const e of arr(exec['env'])) if (isRecord(e) && typeof e['name'] === 'string') env[e['name']] = scalarText(e['value']);
  const spec: Record<string, unknown> = { interactive: false };
  if (exec['provideClusterInfo'] === true) spec['cluster'] = { server: access.server.href, 'certificate-authority-data': access.ca?.toString('base64'), 'insecure-skip-tls-verify': access.insecure };
  env['KUBERNETES_EXEC_INFO'] = JSON.stringify({ apiVersion, kind: 'ExecCredential', spec });
  const args = arr(exec['args']).map(String);
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = execFile(command, args, { env, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 4 * 1024 * 1024 }, (err, out, errOut) => {
      if (err) {
        const hint = str(exec['installHint']);
        const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : `failed (${err.killed ? 'timed out' : `exit ${scalarText((err as { code?: unknown }).code) || '?'}`})`;
        reject(new LiveError(`exec credential plugin ${JSON.stringify(command)} ${why}${errOut ? `: ${errOut.trim().split('\n')[0].slice(0, 200)}` : ''}${hint ? `\n${hint}` : ''}`));
      } else resolve(out);
    });
    child.stdin?.end();
  });
  let cred: unknown;
  try {
    cred = JSON.parse(stdout);
  } catch {
    throw new LiveError(`exec credential plugin ${JSON.stringify(command)} did not print an ExecCredential as JSON`);
  }
  const status = isRecord(cred) && isRecord(cred['status']) ? cred['status'] : undefined;
  if (!status) throw new LiveError(`exec credential plugin ${JSON.stringify(command)} printed no status`);
  const token = str(status['token']);
  if (token) access.authorization = `Bearer ${token}`;
  const cert = str(status['clientCertificateData']);
  const key = str(status['clientKeyData']);
  if (cert && key) Object.assign(access, { cert: Buffer.from(cert), key: Buffer.from(key) });
  if (!token && !(cert && key)) throw new LiveError(`exec credential plugin ${JSON.stringify(command)} returned neither a token nor a client certificate`);
}
