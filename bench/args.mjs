// Command-line flags of the bench scripts: node's parseArgs, with `--help`, a one-line message and
// exit 2 for a bad flag or value (parseArgs alone threw a stack trace), and numbers checked before
// any socket is opened.
import { parseArgs } from 'node:util';

/**
 * The flags of `script` (its name in messages), or exit: 0 after printing `usage` for --help, 2
 * with the problem and `usage` for an unknown flag or a missing value. A leading `--` (what
 * `pnpm bench -- --scales …` hands on) is dropped: parseArgs would end the options at it.
 */
export function benchFlags(script, usage, options, argv = process.argv.slice(2)) {
  const args = argv[0] === '--' ? argv.slice(1) : argv;
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`usage: ${usage}\n`);
    process.exit(0);
  }
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true }).values;
  } catch (err) {
    return usageError(script, usage, err.message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

export function usageError(script, usage, message) {
  process.stderr.write(`${script}: ${message}\nusage: ${usage}\n`);
  process.exit(2);
}

/** `text` as a whole number in [min, max], or exit 2 naming the flag and what it got. */
export function intFlag(script, usage, name, text, min, max = Number.MAX_SAFE_INTEGER) {
  const n = /^\s*-?\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    usageError(script, usage, `--${name} must be a whole number ${range}, got "${text}"`);
  }
  return n;
}

/** A comma-separated list of whole numbers, each in [min, max]. */
export function intListFlag(script, usage, name, text, min, max) {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.some((p) => p === '')) usageError(script, usage, `--${name} must be a comma-separated list of whole numbers, got "${text}"`);
  return parts.map((p) => intFlag(script, usage, name, p, min, max));
}
