/**
 * The Pulumi program (Pulumi.yaml: main: dist/program/index.js). It reads the
 * stack file of the selected stack through flat6's own loader, runs the core
 * and AWS checks, and builds the cluster. Any problem stops the run before a
 * resource is registered, with the stack file's line and the fix.
 *
 * Only a default export: Pulumi calls it and publishes what it returns as the
 * stack outputs.
 */
import * as pulumi from '@pulumi/pulumi';
import { Flat6Error, formatDiagnostics, UsageError } from '../core/diagnostics.js';
import { ApiEndpointError } from '../cloud/aws-plan.js';
import { buildCluster } from '../cloud/cluster.js';
import { LayoutError } from '../cloud/layout.js';
import { NodePoolError } from '../cloud/node-pool.js';
import { projectRoot, readProgramStack, secretsFromConfig } from '../cloud/stack-input.js';

export default async function flat6(): Promise<Record<string, unknown>> {
  const stackName = pulumi.getStack();
  const root = projectRoot(pulumi.runtime.getRootDirectory());
  const config = new pulumi.Config('flat6');
  try {
    const input = readProgramStack(root, stackName, { cluster: config.getObject('cluster'), aws: config.getObject('aws') });
    const secrets = secretsFromConfig({
      bootstrapToken: config.get('bootstrapToken'),
      certificateKey: config.get('certificateKey'),
      caCertHashes: config.get('caCertHashes'),
    });
    return { ...buildCluster(input, pulumi.secret(secrets)).outputs };
  } catch (e) {
    if (e instanceof Flat6Error) throw new pulumi.RunError(`flat6: stack ${stackName} has problems:\n${formatDiagnostics(e.diagnostics)}`);
    if (e instanceof UsageError || e instanceof LayoutError || e instanceof NodePoolError || e instanceof ApiEndpointError) throw new pulumi.RunError(`flat6: ${e.message}`);
    throw e;
  }
}
