import { STACK_HELP, STACK_OPTION, type Command } from '../main.js';
import { SECRETS_ENV } from '../secrets-env.js';

export const diffCommand: Command = {
  name: 'diff',
  summary: 'Compare stacks with a git ref or an earlier render: cluster changes, hosts added and removed, changed files; RENUMBER and DISRUPTIVE changes block.',
  usage: 'flat6 diff [--stack NAME | --all-stacks] --base REF|DIR [--format text|markdown|json] [--allow-renumber] [--context N] [--templates DIR] [--secrets FILE]',
  options: {
    ...STACK_OPTION,
    'all-stacks': { type: 'boolean' },
    base: { type: 'string', short: 'b' },
    format: { type: 'string', short: 'f' },
    'allow-renumber': { type: 'boolean' },
    context: { type: 'string', short: 'U' },
    templates: { type: 'string' },
    secrets: { type: 'string' },
  },
  help: `${STACK_HELP}
      --all-stacks       every stack of stacks/ now and at the base (new and removed
                         stacks included); takes a git ref as --base
  -b, --base REF|DIR     what to compare with: a git ref (branch, tag, commit, HEAD~1;
                         the stack file and the templates as they were at that commit,
                         read with git; the working tree is not touched) or the
                         --out directory of an earlier flat6 render (it has a plan.json).
                         A directory of that name wins over a ref
  -f, --format F         text (default), markdown (a pull-request comment, at most
                         65,536 characters) or json
      --allow-renumber   report RENUMBER, DISRUPTIVE and UNVERIFIED findings without
                         failing (exit 0)
  -U, --context N        lines of context around each change (default 3)
      --templates DIR    template overlay of the head, as flat6 render --templates; read
                         at the base commit too when it lies inside the repository
      --secrets FILE     secrets to render the head with against a render directory
                         (else ${SECRETS_ENV.token}/${SECRETS_ENV.certificateKey}, then DIR/secrets.yaml);
                         a git base renders both sides with fixed stand-ins

The diff works at the plan level first (cluster fields, racks and nodes by
name, without walking unchanged racks), then renders only the hosts and
fabric routers whose inputs changed (their own plan, a cluster setting, a
template they render); when more than 1,000 hosts changed, a sample is
rendered and the count reported. AWS stacks also get what each node pool
boots with (the decoded cloud-init user data). Bootstrap tokens, certificate
keys and CA hashes are masked on both sides and never shown.

RENUMBER: a node present on both sides whose address, pod prefix, rack or
gateway changes, named with old and new values and the stack line that moved
it. DISRUPTIVE: a change a live cluster cannot take (cluster name, pod or
service range, API VIP, control-plane membership; on AWS the region and the
VPC's IPv4 CIDR). UNVERIFIED: the base stack no longer loads or passes the
checks, so the guard could not run.

Exit status: 0 nothing blocks, 1 a RENUMBER, DISRUPTIVE or UNVERIFIED finding
(without --allow-renumber) or a stack that fails its checks, 2 usage error,
unknown ref or a stack that cannot be parsed.`,
  async run(args, io) {
    const { runDiffCommand } = await import('./diff-run.js');
    return runDiffCommand(args, io);
  },
};
