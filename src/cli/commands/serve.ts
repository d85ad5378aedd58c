import type { ServeLimits } from '../../serve/server.js';
import { STACK_HELP, STACK_OPTION, type Command } from '../main.js';
import { SECRETS_ENV } from '../secrets-env.js';

/** The DEFAULT_LIMITS of src/serve/server.ts that the help quotes (./serve-run.ts checks them). */
export const HELP_LIMITS: Pick<ServeLimits, 'maxHeaderSize' | 'headersTimeout'> = { maxHeaderSize: 8192, headersTimeout: 10_000 };

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
headers (431, over ${HELP_LIMITS.maxHeaderSize} bytes) and slow clients (408 after ${HELP_LIMITS.headersTimeout / 1000} s)
are refused, logged on stderr and counted in /metrics. SIGTERM or SIGINT:
stop accepting, finish requests in flight (10 s at most), exit 0.`,
  async run(args, io) {
    const { runServe } = await import('./serve-run.js');
    return runServe(args, io);
  },
};
