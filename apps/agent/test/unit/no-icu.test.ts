// The agent stays clear of ICU: its first collator, number or date format maps megabytes of ICU
// data into the process (localeCompare +2.6 MB, Intl.NumberFormat +5.8 MB of resident file pages
// in node 20), against a budget of 80 MB at 1k sockets. The page may use them; the agent and the
// shared code it bundles may not.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../..', import.meta.url));
const ICU = /\.localeCompare\(|\.toLocale(?:Date|Time)?String\(|\bIntl\./;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? sources(p) : /\.ts$/.test(e) ? [p] : [];
  });
}

describe('the agent does not use ICU', () => {
  it('has no collator or locale format call in its sources or the shared package', () => {
    const files = [...sources(join(root, 'apps/agent/src')), ...sources(join(root, 'packages/shared/src'))];
    expect(files.length).toBeGreaterThan(50);
    const found = files.flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .flatMap((line, i) => (ICU.test(line) && !/^\s*(\/\/|\*)/.test(line) ? [`${f.slice(root.length)}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(found).toEqual([]);
  });
});
