import type { OutputFormat } from '../../render/units.js';
import { SECRETS_ENV } from '../secrets-env.js';
import { STACK_HELP, STACK_OPTION, type Command } from '../main.js';

export const SECRETS_FILE = 'secrets.yaml';
/** Above this many nodes a whole-cluster render must be asked for by name (--all-hosts). */
export const MAX_HOSTS_UNASKED = 10_000;
/** Below this many nodes the default is at most two threads: starting render workers (each loads and plans the stack) costs more than they save. */
export const PARALLEL_MIN_HOSTS = 2_000;
/** From this many nodes a directory render hands its files to a writer by default (two threads): below it the two cost the same. */
export const WRITER_MIN_HOSTS = 200;

/** --jobs when not given: every CPU for large stacks; for directories of a few hundred nodes, this thread and the writer. */
export function defaultJobs(format: OutputFormat, hosts: number, cpus: number): number {
  if (hosts >= PARALLEL_MIN_HOSTS) return cpus;
  if (format === 'dir' && hosts >= WRITER_MIN_HOSTS) return Math.min(2, cpus);
  return 1;
}
export const FORMATS: OutputFormat[] = ['dir', 'tar', 'tar.gz'];

export const renderCommand: Command = {
  name: 'render',
  summary: 'Render every host\'s files (sysctl, netplan, kubeadm, CNI, routing, HA) and the fabric routers\' into a directory or per-rack archives.',
  usage: 'flat6 render [--stack NAME] --out DIR [--host NAME | --all-hosts] [--format dir|tar|tar.gz] [--jobs N] [--templates DIR] [--secrets FILE]',
  options: {
    ...STACK_OPTION,
    out: { type: 'string', short: 'o' },
    host: { type: 'string' },
    templates: { type: 'string' },
    secrets: { type: 'string' },
    'all-hosts': { type: 'boolean' },
    format: { type: 'string' },
    jobs: { type: 'string', short: 'j' },
  },
  help: `${STACK_HELP}
  -o, --out DIR          output directory; replaced as a whole, atomically. DIR must
                         be new, empty or earlier flat6 output (it has a plan.json);
                         never the current directory, one of its parents, or the
                         directory of the stack file
      --host NAME        render one node only (O(1) in cluster size), with its
                         rack's top-of-rack router
      --all-hosts        required to render every host of a stack of more than
                         ${MAX_HOSTS_UNASKED} nodes (about 10 files per host)
      --format FORMAT    dir (default): the tree below; tar or tar.gz: one archive
                         per rack, DIR/racks/<rack>.tar[.gz] (hosts/<host>/etc/...),
                         and DIR/fabric.tar[.gz] (fabric/<router>/etc/...), written
                         as streams; plan.json and secrets.yaml stay plain files.
                         Extracted into one directory they equal the dir render
  -j, --jobs N           threads (default: the number of CPUs for stacks of
                         ${PARALLEL_MIN_HOSTS} nodes or more; for dir, 2 from ${WRITER_MIN_HOSTS} nodes; else 1).
                         dir with N >= 2: one writer creates every directory and
                         file (the native writer where the build has it, else a
                         writer thread; parallel file creation is slower on ext4)
                         while this thread and N-2 workers render racks; 1: this
                         thread renders and writes. tar, tar.gz: N workers each
                         write whole rack archives. The output is byte-identical
                         whatever N
      --templates DIR    overlay directory: a file there (e.g. netplan/60-flat6.yaml.hbs)
                         replaces the built-in template of the same path
      --secrets FILE     YAML with bootstrapToken, certificateKey and optionally
                         caCertHashes (mode 0600)

Output (per host; control-plane nodes also get keepalived and haproxy):
  DIR/hosts/<host>/etc/sysctl.d/99-flat6.conf        kernel settings (0644)
  DIR/hosts/<host>/etc/modules-load.d/flat6.conf     br_netfilter, overlay (0644)
  DIR/hosts/<host>/etc/netplan/60-flat6.yaml         static IPv6 uplink (0600)
  DIR/hosts/<host>/etc/netplan/61-flat6-pods.yaml    the node's pod prefix route (0600)
  DIR/hosts/<host>/etc/flat6/kubeadm.yaml            kubeadm v1beta4 (0600: holds the token)
  DIR/hosts/<host>/etc/cni/net.d/10-flat6.conflist   ptp + host-local over the pod prefix
  DIR/hosts/<host>/etc/bird/bird.conf                BGP announcement of the pod prefix (bgp mode)
  DIR/hosts/<host>/etc/keepalived/keepalived.conf    VRRPv3 for the API VIP (+ check_apiserver.sh)
  DIR/hosts/<host>/etc/haproxy/haproxy.cfg           the API endpoint's load balancer
  DIR/fabric/<router>/etc/...                        spine and top-of-rack routers
  DIR/plan.json                                      the address plan of what was rendered
  DIR/secrets.yaml                                   generated secrets (0600); an existing one is
                                                     kept unchanged when secrets come from elsewhere

Secrets come from --secrets, else ${SECRETS_ENV.token} and ${SECRETS_ENV.certificateKey}
(and ${SECRETS_ENV.caCertHashes}, comma-separated), else DIR/secrets.yaml of an
earlier render, else they are generated. ${SECRETS_ENV.caCertHashes} set on its own
adds CA pins to whichever secrets are used. Without CA hashes, joins skip CA pinning.
If any check fails nothing is written and an existing DIR stays as it was.`,
  async run(args, io) {
    const { runRender } = await import('./render-run.js');
    return runRender(args, io);
  },
};
