/** Descriptors shared by the kubeadm, kubelet and kube-proxy schemas. */
import { anyOf, bool, float, int32, int64, list, map, obj, oneOfStr, req, str, uint32 } from './dsl.js';
import { absolutePath, goDuration, ipLiteral, quantity, rfc3339 } from './checks.js';

export const duration = str({ label: 'duration string', checks: [goDuration] });
export const time = str({ label: 'RFC 3339 time', checks: [rfc3339] });
export const ip = str({ label: 'IP address', checks: [ipLiteral] });
export const absPath = str({ label: 'absolute path', checks: [absolutePath] });
export const strings = list(str());
export const featureGates = map(bool());
export const port = int32(1, 65535);
export const quantityT = anyOf('resource quantity', str({ checks: [quantity] }), int64(), float());
export const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;
export const percent = int32(0, 100);
export const nonNegInt32 = int32(0);

/** apiVersion and kind: required, and exactly these values. */
export const typeMeta = (apiVersion: string, kind: string) => ({
  apiVersion: req(oneOfStr([apiVersion])),
  kind: req(oneOfStr([kind])),
});

/** core/v1 Taint. */
export const taint = obj('Taint', {
  key: req(str({ nonEmpty: true })),
  value: str(),
  effect: req(oneOfStr(['NoSchedule', 'PreferNoSchedule', 'NoExecute'])),
  timeAdded: time,
});

/** metav1 duration or integer nanoseconds (component-base logs TimeOrMetaDuration). */
export const timeOrDuration = anyOf('duration string or integer nanoseconds', duration, int64(0));

/** component-base logs/api/v1 LoggingConfiguration. */
const outputRouting = (name: string) => obj(name, { splitStream: bool(), infoBufferSize: quantityT });
export const logging = obj('LoggingConfiguration', {
  format: oneOfStr(['text', 'json']),
  flushFrequency: timeOrDuration,
  verbosity: uint32(),
  vmodule: list(obj('VModuleItem', { filePattern: req(str({ nonEmpty: true })), verbosity: req(uint32()) })),
  options: obj('FormatOptions', { text: outputRouting('TextOptions'), json: outputRouting('JSONOptions') }),
});

