/** `flat6 serve`: the HTTP(S) server of the hosts' files. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../../core/diagnostics.js';
import { formatAddress, parseAddress } from '../../core/ip.js';
import type { RenderContext } from '../../render/context.js';
import { chooseSecrets, SECRETS_ENV } from '../../render/secrets.js';
import { TemplateSet } from '../../render/templates.js';
import { isServeWorker, runPrimary, workerSide } from '../../serve/cluster.js';
import { createServe, DEFAULT_LIMITS, type TlsOptions } from '../../serve/server.js';
import type { ParsedArgs } from '../main.js';
import { planFromArgs } from '../plan-args.js';
import type { CliIO } from '../io.js';
import { HELP_LIMITS } from './serve.js';

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

/** The limits that `flat6 serve --help` quotes (HELP_LIMITS) are the server's. */
function checkHelpLimits(): void {
  for (const k of ['maxHeaderSize', 'headersTimeout'] as const) {
    if (HELP_LIMITS[k] !== DEFAULT_LIMITS[k]) throw new Error(`flat6 serve --help quotes ${k} ${HELP_LIMITS[k]}; the server's is ${DEFAULT_LIMITS[k]}`);
  }
}

export async function runServe(args: ParsedArgs, io: CliIO): Promise<number> {
  checkHelpLimits();
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
}
