/**
 * Which cloud a stack is for: `flat6:aws` or `flat6:oci` in its config. The
 * Pulumi program builds cloud labs only; a bare-metal stack (neither section)
 * or a stack naming both is refused with its file and the fix. No Pulumi.
 */
import { Flat6Error } from '../core/diagnostics.js';
import { CLUSTER_KEY, type LoadedStack } from '../spec/load.js';
import { AWS_KEY, loadAwsStack, type AwsStack } from './aws/config.js';
import { loadOciStack, OCI_KEY, type OciStack } from './oci/config.js';
import { readStackFile } from './shared/stack-input.js';

export type CloudStack = { cloud: 'aws'; input: AwsStack } | { cloud: 'oci'; input: OciStack };

export const CLOUD_KEYS = [AWS_KEY, OCI_KEY] as const;

/** Pick the cloud of a loaded stack and run its checks. */
export function loadCloudStack(stack: LoadedStack): CloudStack {
  const has = CLOUD_KEYS.filter((k) => stack.config[k] !== undefined);
  if (has.length === 1) return has[0] === AWS_KEY ? { cloud: 'aws', input: loadAwsStack(stack) } : { cloud: 'oci', input: loadOciStack(stack) };
  const both = has.length === 2;
  throw new Flat6Error(
    [
      {
        code: 'NO_CLOUD',
        severity: 'error',
        message: both
          ? `${stack.file} has both "${AWS_KEY}" and "${OCI_KEY}": a stack runs on one cloud`
          : `stack ${stack.stackName} is a bare-metal stack (no "${AWS_KEY}" or "${OCI_KEY}" under "config:"): the Pulumi program builds cloud labs only`,
        location: { file: stack.file, line: 1, col: 1 },
        fix: both
          ? `keep one of them (one stack file per cloud: see stacks/Pulumi.aws-lab.yaml and stacks/Pulumi.oci-lab.yaml)`
          : `render bare-metal hosts with \`flat6 render --stack ${stack.stackName} --out DIR\`; for a cloud lab add "${AWS_KEY}" (docs/aws.md) or "${OCI_KEY}" (docs/oci.md) next to ${CLUSTER_KEY}`,
      },
    ],
    2,
  );
}

/**
 * Load the stack Pulumi runs (stacks/Pulumi.<stack>.yaml), cross-check it with
 * the configuration Pulumi passed, pick its cloud and run every check.
 */
export function readProgramStack(rootDir: string, stackName: string, passed: { cluster: unknown; aws: unknown; oci: unknown }): CloudStack {
  const stack = readStackFile(rootDir, stackName, { [CLUSTER_KEY]: passed.cluster, [AWS_KEY]: passed.aws, [OCI_KEY]: passed.oci });
  return loadCloudStack(stack);
}
