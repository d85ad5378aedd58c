import { STACK_HELP, STACK_OPTION, type Command } from '../main.js';

export const haCommand: Command = {
  name: 'ha',
  summary: 'Prove the HA API endpoint: keepalived + haproxy failover in network namespaces.',
  usage: 'flat6 ha failover [--stack NAME] [--runs N] [--interval MS] [--timeout MS] [--json] [--logs DIR] [--templates DIR]',
  positionals: true,
  options: {
    ...STACK_OPTION,
    runs: { type: 'string' },
    interval: { type: 'string' },
    timeout: { type: 'string' },
    json: { type: 'boolean' },
    logs: { type: 'string' },
    templates: { type: 'string' },
  },
  help: `Subcommand:
  failover   Rebuild the stack's control-plane segment in network namespaces and
             run the rendered keepalived.conf, check_apiserver.sh and haproxy.cfg
             unchanged: a bridge, one namespace per control-plane node (its
             uplink and address from the stack, a stand-in HTTPS API server on
             [node]:apiServerPort answering /healthz and /readyz with its name,
             haproxy, keepalived) and a client at the segment's gateway address
             that polls https://[VIP]:port/healthz. Then, faults accumulating:
               (a) stop keepalived on the VIP holder (as systemctl stop would)
               (b) take the link of the new holder down (its switch port)
               (c) stop the API server on the holder
               (d) restore everything
             Reports, per fault, the time until the VIP answered again and how
             many requests failed, and which node held the VIP throughout
             (ip monitor, plus ip -6 addr samples every 100 ms).
             Passes when: after (a) and (b) the VIP answers within 5 s; (c)
             fails at most the requests of one haproxy check interval; after
             (d) every haproxy sees every API server UP; two nodes never hold
             the VIP for more than 1 s; and nothing is left behind.
             Root only. Everything started (namespaces f6ha-<pid>-*, processes,
             /etc/netns/f6ha-*, a temporary directory) is removed afterwards,
             also on failure or Ctrl-C; what a killed run (kill -9) left is
             removed by the next run. A run takes about 20 s.

Options:
${STACK_HELP}
      --runs N           run the scenario N times in a row (default 1)
      --interval MS      client request interval (default 100)
      --timeout MS       client request timeout (default 1000)
      --json             print the reports as JSON
      --logs DIR         keep the logs of keepalived, haproxy, the stand-ins and
                         the client in DIR
      --templates DIR    template overlay, as for flat6 render

Exit status: 0 every run passed, 1 a run failed its criteria or the lab broke,
2 usage error (including: not root, a tool missing, loadBalancer: none), 130
(Ctrl-C) or 143 (SIGTERM) interrupted, after removing everything it made
(further signals meanwhile are ignored).
See docs/ha.md.`,
  async run(args, io) {
    const { runHa } = await import('./ha-run.js');
    return runHa(args, io);
  },
};
