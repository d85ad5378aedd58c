/** The add-on files of a render: <out>/cluster/addons/*.yaml, when the stack has flat6:addons. */
import type { ClusterPlan } from '../plan/plan.js';
import { MODE_PUBLIC, type FileEntry } from '../render/files.js';
import type { LoadedStack } from '../spec/load.js';
import { ADDONS_DIR, addonFileYaml, addonFiles } from './addons.js';
import { planAddons } from './plan.js';

/**
 * Check flat6:addons and render its files; none when the stack has no such
 * section. Throws Flat6Error (located) on a bad section, before anything is written.
 */
export function renderAddons(stack: LoadedStack, plan: ClusterPlan): FileEntry[] {
  const p = planAddons(stack, plan);
  if (!p) return [];
  return addonFiles(p).map((f) => ({ path: `${ADDONS_DIR}/${f.name}`, mode: MODE_PUBLIC, content: addonFileYaml(f) }));
}
