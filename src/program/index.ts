/**
 * The Pulumi program (Pulumi.yaml: main: dist/program/index.js). It reads the
 * stack file of the selected stack through flat6's own loader, picks the cloud
 * from it (flat6:aws or flat6:oci; bare-metal stacks are refused), runs the
 * core and cloud checks, and builds the cluster. Any problem stops the run
 * before a resource is registered, with the stack file's line and the fix.
 *
 * Only a default export: Pulumi calls it and publishes what it returns as the
 * stack outputs.
 */
import * as pulumi from '@pulumi/pulumi';
import { Flat6Error, formatDiagnostics, UsageError } from '../core/diagnostics.js';
import { buildCluster as buildAwsCluster } from '../cloud/aws/cluster.js';
import { NodePoolError } from '../cloud/aws/node-pool.js';
import { ApiEndpointError } from '../cloud/aws/plan.js';
import { buildOciCluster, OciBuildError } from '../cloud/oci/cluster.js';
import { readProgramStack } from '../cloud/select.js';
import { LayoutError } from '../cloud/shared/tiers.js';
import { projectRoot, secretsFromConfig } from '../cloud/shared/stack-input.js';
import { addonsOnlyStack, deployAddons } from '../k8s/program.js';

// eslint-disable-next-line @typescript-eslint/require-await -- Pulumi awaits the program's result; the function stays async so a thrown check reaches it as a rejected promise
export default async function flat6(): Promise<Record<string, unknown>> {
  const stackName = pulumi.getStack();
  const root = projectRoot(pulumi.runtime.getRootDirectory());
  const config = new pulumi.Config('flat6');
  try {
    // flat6:addons (docs/addons.md): alone on a bare-metal stack, after the cluster on a cloud stack.
    const addonsFrom = { addons: config.getObject('addons'), kubeconfig: config.getSecret('kubeconfig') };
    const bare = addonsOnlyStack(root, stackName, addonsFrom.kubeconfig !== undefined);
    if (bare) return deployAddons(bare.stack, bare.plan, root, addonsFrom);
    const picked = readProgramStack(root, stackName, { cluster: config.getObject('cluster'), aws: config.getObject('aws'), oci: config.getObject('oci') });
    const secrets = pulumi.secret(
      secretsFromConfig({
        bootstrapToken: config.get('bootstrapToken'),
        certificateKey: config.get('certificateKey'),
        caCertHashes: config.get('caCertHashes'),
      }),
    );
    const addons = () => deployAddons(picked.input.stack, picked.input.plan, root, addonsFrom);
    if (picked.cloud === 'aws') return { ...buildAwsCluster(picked.input, secrets).outputs, ...addons() };
    return { ...buildOciCluster(picked.input, secrets).outputs, ...addons() };
  } catch (e) {
    if (e instanceof Flat6Error) throw new pulumi.RunError(`flat6: stack ${stackName} has problems:\n${formatDiagnostics(e.diagnostics)}`);
    if (e instanceof UsageError || e instanceof LayoutError || e instanceof NodePoolError || e instanceof ApiEndpointError || e instanceof OciBuildError) {
      throw new pulumi.RunError(`flat6: ${e.message}`);
    }
    throw e;
  }
}
