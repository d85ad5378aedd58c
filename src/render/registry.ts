/**
 * Every renderer flat6 runs, in a fixed order (output order is part of
 * determinism). Later capabilities add theirs here.
 */
import type { ClusterRenderer, HostRenderer } from './context.js';
import { kubeadmRenderer, netplanRenderer, sysctlRenderer } from './host.js';
import { haRenderer } from './ha.js';
import { cniRenderer } from './cni.js';
import { fabricRenderer, routingRenderer } from './routing.js';

export const HOST_RENDERERS: HostRenderer[] = [sysctlRenderer, netplanRenderer, kubeadmRenderer, haRenderer, cniRenderer, routingRenderer];

export const CLUSTER_RENDERERS: ClusterRenderer[] = [fabricRenderer];
