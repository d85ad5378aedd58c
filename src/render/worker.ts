/** Entry point of a render worker thread when running from dist/ modules (see worker-main.ts). */
import { runRenderWorker } from './worker-main.js';

runRenderWorker();
