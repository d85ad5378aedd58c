/** A finding on one line of a text value (ConfigMap or Secret data). */
import type { AuditCode } from '../codes.js';
import type { Severity } from '../types.js';

export interface TextHit {
  code: AuditCode;
  /** 1-based line inside the value */
  line: number;
  severity?: Severity;
  /** the message, quoting what was found */
  said: string;
  /** the same message without any text of the value (for Secrets) */
  quiet: string;
  /** a fix naming values from the text (omitted for Secrets) */
  fix?: string;
}

/** Quote a piece of configuration text in a message: one line, at most 80 characters. */
export function quote(text: string): string {
  const t = text.trim().replace(/\s+/g, ' ');
  return JSON.stringify(t.length > 80 ? `${t.slice(0, 77)}...` : t);
}
