/**
 * `flat6 serve`: an HTTP(S) server that renders, on request and from the plan,
 * the files of the host that asks. The source address must be the node's own
 * planned address (O(1) lookup), so a host only ever gets its own files (its
 * bootstrap token included); everything else is refused, logged and counted.
 * Nothing is read from disk per request, so names cannot traverse anything.
 */
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { gzip } from 'node:zlib';
import { formatAddress } from '../core/ip.js';
import type { ClusterPlan, NodePlan } from '../plan/plan.js';
import { clusterSummary } from '../plan/summary.js';
import type { RenderContext } from '../render/context.js';
import { renderHostFiles, stableJson } from '../render/render.js';
import type { Secrets } from '../render/secrets.js';
import { tarBuffer } from '../sinks/tar.js';
import { clientAddress, nodeByAddress } from './address.js';
import { cloudConfig } from './cloud-config.js';
import { Metrics, type MetricsSnapshot, type Route } from './metrics.js';

export interface ServeLimits {
  /** bytes of request line + headers (Node answers 431 beyond) */
  maxHeaderSize: number;
  /** ms to receive the headers (slow clients get 408) */
  headersTimeout: number;
  /** ms to receive the whole request */
  requestTimeout: number;
  /** ms an idle keep-alive connection stays open */
  keepAliveTimeout: number;
  /** open connections at most; more are dropped */
  maxConnections: number;
  /** longest request target accepted (414 beyond) */
  maxUrl: number;
}

export const DEFAULT_LIMITS: ServeLimits = { maxHeaderSize: 8192, headersTimeout: 10_000, requestTimeout: 15_000, keepAliveTimeout: 5_000, maxConnections: 10_000, maxUrl: 256 };

export interface TlsOptions {
  cert: Buffer;
  key: Buffer;
  /** CA of client certificates: when set, a client must present one, and its CN or a DNS SAN must be its node name */
  clientCa?: Buffer;
}

export interface ServeOptions {
  ctx: RenderContext;
  /** secrets of a host's files (default ctx.secrets): the hook for per-host tokens */
  secretsFor?: (node: NodePlan) => Secrets;
  /** addresses of reverse proxies whose X-Forwarded-For is believed (see docs/serve.md) */
  trustedProxies?: bigint[];
  tls?: TlsOptions;
  limits?: Partial<ServeLimits>;
  /** one line per refusal (rate-limited) and per lifecycle event */
  log?: (line: string) => void;
  /** the other server processes' latest metrics (--workers), summed into /metrics */
  peerMetrics?: () => MetricsSnapshot[];
}

export interface Served {
  server: Server;
  metrics: Metrics;
  /** stop accepting, finish in-flight requests (at most `graceMs`), then close */
  shutdown(graceMs?: number): Promise<void>;
}

const HOST_PATH = /^\/v1\/hosts\/([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.tar|\.tar\.gz|\/cloud-config)$/;
const ROUTE_OF: Record<string, Route> = { '.tar': 'host_tar', '.tar.gz': 'host_tar_gz', '/cloud-config': 'host_cloud_config' };
const TYPE_OF: Record<string, string> = { '.tar': 'application/x-tar', '.tar.gz': 'application/gzip', '/cloud-config': 'text/cloud-config; charset=utf-8' };
const LOG_PER_SECOND = 50;

function gzipped(buf: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => gzip(buf, { level: 6 }, (e, out) => (e ? reject(e) : resolve(out))));
}

/** Names a client certificate vouches for: its subject CN and DNS SANs. */
function certNames(req: IncomingMessage): string[] {
  const sock = req.socket as TLSSocket;
  if (typeof sock.getPeerCertificate !== 'function' || !sock.authorized) return [];
  const c = sock.getPeerCertificate();
  const names: string[] = [];
  const cn = c?.subject?.CN;
  if (typeof cn === 'string') names.push(cn);
  for (const part of (c?.subjectaltname ?? '').split(',')) {
    const m = /^\s*DNS:(.+)$/.exec(part);
    if (m) names.push(m[1]!.trim());
  }
  return names;
}

export function createServe(opts: ServeOptions): Served {
  const { ctx } = opts;
  const plan: ClusterPlan = ctx.plan;
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const trusted = new Set(opts.trustedProxies ?? []);
  const metrics = new Metrics();
  const planText = stableJson(clusterSummary(plan));
  let logWindow = 0;
  let logged = 0;
  let suppressed = 0;
  const log = (line: string): void => {
    if (!opts.log) return;
    const now = Math.floor(Date.now() / 1000);
    if (now !== logWindow) {
      if (suppressed) opts.log(`serve: ${suppressed} more refusal line(s) suppressed (see /metrics)`);
      logWindow = now;
      logged = 0;
      suppressed = 0;
    }
    if (logged++ < LOG_PER_SECOND) opts.log(line);
    else suppressed++;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const t0 = process.hrtime.bigint();
    let route: Route = 'other';
    metrics.inFlight++;
    const send = (status: number, body: string | Buffer, type = 'text/plain; charset=utf-8', extra: Record<string, string> = {}): void => {
      const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
      res.writeHead(status, { 'content-type': type, 'content-length': String(buf.length), 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...extra });
      res.end(req.method === 'HEAD' ? undefined : buf);
      metrics.inFlight--;
      metrics.request(route, status, Number(process.hrtime.bigint() - t0) / 1e9, req.method === 'HEAD' ? 0 : buf.length);
    };
    const refuse = (status: number, reason: string, message: string, detail = ''): void => {
      metrics.refusal(reason);
      const peer = req.socket.remoteAddress ?? '?';
      log(`serve: ${status} ${reason} from [${peer}] ${JSON.stringify((req.url ?? '').slice(0, 80))}${detail}`);
      send(status, `${message}\n`, 'text/plain; charset=utf-8', req.method === 'GET' || req.method === 'HEAD' ? {} : { allow: 'GET, HEAD' });
    };
    try {
      const url = req.url ?? '';
      if (req.method !== 'GET' && req.method !== 'HEAD') { refuse(405, 'method', 'only GET and HEAD are served'); return; }
      if ((req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined) {
        refuse(413, 'body', 'requests carry no body here'); return;
      }
      if (url.length > limits.maxUrl) { refuse(414, 'url-too-long', `request target longer than ${limits.maxUrl} bytes`); return; }
      if (url === '/healthz') {
        route = 'healthz';
        send(200, 'ok\n'); return;
      }
      if (url === '/metrics') {
        route = 'metrics';
        send(200, metrics.text(opts.peerMetrics?.() ?? []), 'text/plain; version=0.0.4; charset=utf-8'); return;
      }
      if (url === '/v1/plan') {
        route = 'plan';
        send(200, planText, 'application/json'); return;
      }
      if (!url.startsWith('/v1/hosts/')) { refuse(404, 'no-route', 'no such resource (GET /v1/hosts/<name>.tar, .tar.gz or /cloud-config; /v1/plan; /healthz; /metrics)'); return; }
      const m = HOST_PATH.exec(url);
      if (!m) { refuse(400, 'bad-path', 'malformed host path: /v1/hosts/<name>.tar, /v1/hosts/<name>.tar.gz or /v1/hosts/<name>/cloud-config, <name> a node name (a-z, 0-9, "-"), nothing encoded'); return; }
      const [, name, kind] = m as unknown as [string, string, string];
      route = ROUTE_OF[kind]!;
      const src = clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], trusted);
      const caller = src === undefined ? undefined : nodeByAddress(plan, src);
      if (!caller) { refuse(403, 'not-a-node', 'your address is not a node address of this cluster', src === undefined ? '' : ` (source ${formatAddress(src)})`); return; }
      if (caller.name !== name) {
        if (!plan.findNode(name)) { refuse(404, 'unknown-host', `no host ${name} in this cluster`, ` (caller ${caller.name})`); return; }
        refuse(403, 'other-host', "a host gets only its own files", ` (caller ${caller.name} asked for ${name})`); return;
      }
      if (opts.tls?.clientCa && !certNames(req).includes(caller.name)) { refuse(403, 'certificate', `no client certificate for ${caller.name}`); return; }
      const hctx = opts.secretsFor ? { ...ctx, secrets: opts.secretsFor(caller) } : ctx;
      const files = renderHostFiles(hctx, caller);
      let body: Buffer;
      if (kind === '/cloud-config') body = Buffer.from(cloudConfig(plan, caller, files), 'utf8');
      else {
        body = tarBuffer(files);
        if (kind === '.tar.gz') body = await gzipped(body);
      }
      send(200, body, TYPE_OF[kind]); return;
    } catch (e) {
      metrics.refusal('internal');
      opts.log?.(`serve: 500 ${(e as Error).message}`);
      if (!res.headersSent) send(500, 'internal error\n');
      else res.destroy();
    }
  };

  const serverOpts = {
    maxHeaderSize: limits.maxHeaderSize,
    headersTimeout: limits.headersTimeout,
    requestTimeout: limits.requestTimeout,
    keepAliveTimeout: limits.keepAliveTimeout,
    connectionsCheckingInterval: Math.min(1000, limits.headersTimeout),
  };
  const listener = (req: IncomingMessage, res: ServerResponse): void => void handle(req, res);
  const server: Server = opts.tls
    ? (createHttps({ ...serverOpts, cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.clientCa, requestCert: !!opts.tls.clientCa, rejectUnauthorized: !!opts.tls.clientCa, minVersion: 'TLSv1.2' }, listener) as unknown as Server)
    : createHttp(serverOpts, listener);
  server.maxConnections = limits.maxConnections;
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const code = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const reason = code === 431 ? 'header-too-large' : code === 408 ? 'timeout' : 'malformed';
    metrics.refusal(reason);
    log(`serve: ${code} ${reason} from [${socket.remoteAddress ?? '?'}]`);
    if (socket.writable && !(socket as { _httpMessage?: unknown })._httpMessage) {
      const text = code === 431 ? 'Request Header Fields Too Large' : code === 408 ? 'Request Timeout' : 'Bad Request';
      socket.end(`HTTP/1.1 ${code} ${text}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    } else socket.destroy();
  });

  const shutdown = (graceMs = 10_000): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      timer.unref();
      server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      server.closeIdleConnections();
    });
  return { server, metrics, shutdown };
}
