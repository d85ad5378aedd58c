/** Entry point: registers every command and runs the CLI on the real process. */
import { run, registerCommand } from './main.js';
import { processIO } from './io.js';
import { planCommand } from './commands/plan.js';
import { validateCommand } from './commands/validate.js';
import { renderCommand } from './commands/render.js';
import { schemaCommand } from './commands/schema.js';
import { haCommand } from './commands/ha.js';
import { labCommand } from './commands/lab.js';
import { auditCommand } from './commands/audit.js';
import { serveCommand } from './commands/serve.js';
import { diffCommand } from './commands/diff.js';

registerCommand(planCommand);
registerCommand(validateCommand);
registerCommand(renderCommand);
registerCommand(schemaCommand);
registerCommand(haCommand);
registerCommand(labCommand);
registerCommand(auditCommand);
registerCommand(serveCommand);
registerCommand(diffCommand);

export { run };

/** A render worker thread's body, for bin/render-worker.cjs when it runs from the CLI bundle; loaded only there. */
export async function runRenderWorker(): Promise<void> {
  (await import('../render/worker-main.js')).runRenderWorker();
}

export async function main(argv = process.argv.slice(2)): Promise<void> {
  try {
    process.exitCode = await run(argv, processIO());
  } catch (e) {
    process.stderr.write(`flat6: internal error: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 70;
  }
}
