import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../../core/diagnostics.js';
import { formatAddress, parseAddress } from '../../core/ip.js';
import type { RenderContext } from '../../render/context.js';
import { chooseSecrets, SECRETS_ENV } from '../../render/secrets.js';
import { TemplateSet } from '../../render/templates.js';
import { isServeWorker, runPrimary, workerSide } from '../../serve/cluster.js';
import { createServe, DEFAULT_LIMITS, type TlsOptions } from '../../serve/server.js';
import { planFromArgs, STACK_HELP, STACK_OPTION, type Command } from '../main.js';

/** "[ADDR]:PORT" -> address text and port; IPv6 only, brackets required. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/.exec(text);
  if (!m) throw new UsageError(`--listen takes [IPV6-ADDRESS]:PORT with brackets, e.g. '[::]:8080' or '[2001:db8::1]:8080', not ${JSON.stringify(text)}`);
  let addr: bigint;
  try {
    addr = parseAddress(m[1]!);
  } catch (e) {
    throw new UsageError(`--listen ${text}: ${(e as Error).message}`);
  }
  const port = Number(m[2]);
  if (port > 65535) throw new UsageError(`--listen ${text}: port ${port} is above 65535`);
  return { host: formatAddress(addr), port };
}

function readPem(path: string | undefined, what: string, cwd: string): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(resolve(cwd, path));
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${path}: ${(e as Error).message}`);
  }
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Serve each booting host its own files over HTTP(S): tar, tar.gz or cloud-config, rendered on request.',
  usage: "flat6 serve [--stack NAME] --listen '[ADDR]:PORT' [--workers N] [--secrets FILE] [--templates DIR] [--trust-proxy ADDR,...] [--tls-cert FILE --tls-key FILE [--client-ca FILE]]",
  options: {
    ...STACK_OPTION,
    listen: { type: 'string', short: 'l' },
    secrets: { type: 'string' },
    templates: { type: 'string' },
    'trust-proxy': { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'client-ca': { type: 'string' },
    workers: { type: 'string', short: 'w' },
  },
  help: `${STACK_HELP}
  -l, --listen [ADDR]:PORT  IPv6 address and port, brackets required ('[::]:8080')
  -w, --workers N        N server processes sharing the socket (default 1): use every
                         CPU; /metrics sums them all (at most a second old)
      --secrets FILE     bootstrap secrets, as for render (else ${SECRETS_ENV.token} and
                         ${SECRETS_ENV.certificateKey}); serve never generates them
      --templates DIR    template overlay, as for render
      --trust-proxy LIST comma-separated addresses of reverse proxies: for requests from
                         them, the last X-Forwarded-For entry is the client (docs/serve.md)
      --tls-cert FILE, --tls-key FILE   serve HTTPS
      --client-ca FILE   require a client certificate signed by this CA whose CN or a
                         DNS SAN is the node's name (mutual TLS), on top of the address

Routes (GET or HEAD):
  /v1/hosts/<name>.tar           the host's files (etc/..., modes kept): extract at /
  /v1/hosts/<name>.tar.gz        the same, gzip
  /v1/hosts/<name>/cloud-config  #cloud-config with write_files (base64, modes kept)
  /v1/plan                       cluster summary (no secrets, no node list)
  /healthz, /metrics             liveness; Prometheus metrics

A host gets only its own files: the request's source address must be the
node's planned address. Other hosts' files (403), addresses that are no node
(403), malformed paths (400), unknown hosts (404), bodies (413), oversized
headers (431, over ${DEFAULT_LIMITS.maxHeaderSize} bytes) and slow clients (408 after ${DEFAULT_LIMITS.headersTimeout / 1000} s)
are refused, logged on stderr and counted in /metrics. SIGTERM or SIGINT:
stop accepting, finish requests in flight (10 s at most), exit 0.`,
  async run(args, io) {
    const listenArg = args.values['listen'] as string | undefined;
    if (!listenArg) throw new UsageError("--listen '[ADDR]:PORT' is required (e.g. --listen '[::]:8080')");
    const listen = parseListen(listenArg);
    const { plan } = planFromArgs(args, io);
    const secretsArg = args.values['secrets'] as string | undefined;
    const choice = chooseSecrets({ file: secretsArg === undefined ? undefined : resolve(io.cwd, secretsArg), env: io.env });
    if (choice.source === 'generated') {
      throw new UsageError(`flat6 serve needs the cluster's secrets: pass --secrets FILE (e.g. the secrets.yaml of an earlier render) or set ${SECRETS_ENV.token} and ${SECRETS_ENV.certificateKey}`);
    }
    const templatesArg = args.values['templates'] as string | undefined;
    const ctx: RenderContext = { plan, templates: new TemplateSet(templatesArg === undefined ? undefined : resolve(io.cwd, templatesArg)), secrets: choice.secrets };
    const trustedProxies = ((args.values['trust-proxy'] as string | undefined) ?? '')
      .split(',')
      .filter((s) => s.trim() !== '')
      .map((s) => {
        try {
          return parseAddress(s.trim().replace(/^\[|\]$/g, ''));
        } catch (e) {
          throw new UsageError(`--trust-proxy ${s}: ${(e as Error).message}`);
        }
      });
    const cert = readPem(args.values['tls-cert'] as string | undefined, '--tls-cert', io.cwd);
    const key = readPem(args.values['tls-key'] as string | undefined, '--tls-key', io.cwd);
    const clientCa = readPem(args.values['client-ca'] as string | undefined, '--client-ca', io.cwd);
    if (!!cert !== !!key) throw new UsageError('--tls-cert and --tls-key go together');
    if (clientCa && !cert) throw new UsageError('--client-ca needs --tls-cert and --tls-key');
    const tls: TlsOptions | undefined = cert && key ? { cert, key, clientCa } : undefined;

    const workersArg = (args.values['workers'] as string | undefined) ?? '1';
    if (!/^[1-9]\d{0,2}$/.test(workersArg)) throw new UsageError(`--workers takes a whole number from 1 to 999, not ${JSON.stringify(workersArg)}`);
    const workers = Number(workersArg);
    const scheme = tls ? 'https' : 'http';
    const banner = (port: number, n: number): string =>
      `serving ${plan.nodeCount} host(s) of ${plan.stackName} on ${scheme}://[${listen.host}]:${port}${n > 1 ? ` with ${n} worker processes` : ''}${tls?.clientCa ? ' (client certificates required)' : ''}\n`;
    if (workers > 1 && !isServeWorker()) {
      // Everything above was checked here once, so a usage error stops before any worker starts.
      return runPrimary(workers, (port) => io.stdout(banner(port, workers)), (l) => io.stderr(`${l}\n`));
    }
    let worker: ReturnType<typeof workerSide> | undefined;
    const served = createServe({ ctx, trustedProxies, tls, log: (l) => io.stderr(`${l}\n`), peerMetrics: () => worker?.peers() ?? [] });
    if (isServeWorker()) worker = workerSide(() => served.metrics.snapshot());
    await new Promise<void>((ok, fail) => {
      served.server.once('error', (e: NodeJS.ErrnoException) => fail(new UsageError(`cannot listen on ${listenArg}: ${e.message}`)));
      served.server.listen({ host: listen.host, port: listen.port, ipv6Only: true }, ok);
    });
    const addr = served.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : listen.port;
    if (worker) worker.listening(port);
    else io.stdout(banner(port, 1));
    await new Promise<void>((done) => {
      const stop = (sig: string): void => {
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onInt);
        io.stderr(`serve: ${sig}: finishing requests in flight, then exiting\n`);
        void served.shutdown().then(done);
      };
      const onTerm = (): void => stop('SIGTERM');
      const onInt = (): void => stop('SIGINT');
      process.on('SIGTERM', onTerm);
      process.on('SIGINT', onInt);
    });
    worker?.stop();
    if (!worker) io.stderr('serve: stopped\n');
    return 0;
  },
};
