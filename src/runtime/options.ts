/** Command-line values shared by the lab commands. */
import { UsageError } from '../core/diagnostics.js';

/**
 * A whole-number option: undefined when absent, else a number within
 * [min, max]; a UsageError naming the option otherwise.
 */
export function wholeNumber(value: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`--${name} takes a whole number ${range}, not ${JSON.stringify(value)}`);
  }
  return n;
}
