import { describe, expect, it } from 'vitest';
import type { Alert } from '@netscope/shared';
import { safeAppLink, stripAlerts } from './overviewAlerts';

const alert = (over: Partial<Alert>): Alert => ({
  id: 'x@1',
  instance: 'x',
  rule: 'synRecv',
  key: null,
  severity: 'warning',
  title: 'T',
  meaning: 'M',
  lookAt: [],
  link: '/connections?state=SYN_RECV',
  value: 1,
  peak: 1,
  threshold: 0,
  raisedAt: 1,
  clearedAt: null,
  ...over,
});

describe('stripAlerts', () => {
  it('falls back to the page thresholds when the agent sends no alerts', () => {
    const out = stripAlerts(undefined, [{ level: 'crit', text: '60 SYN_RECV', to: '/connections?state=SYN_RECV' }]);
    expect(out).toEqual([{ key: '60 SYN_RECV', level: 'crit', text: '60 SYN_RECV', to: '/connections?state=SYN_RECV', title: '', since: null }]);
  });

  it('uses the agent’s active alerts, most severe and oldest first', () => {
    const out = stripAlerts(
      [
        alert({ id: 'a', severity: 'warning', raisedAt: 5 }),
        alert({ id: 'b', severity: 'critical', raisedAt: 9 }),
        alert({ id: 'c', severity: 'warning', raisedAt: 2 }),
        alert({ id: 'd', severity: 'critical', clearedAt: 10 }),
        alert({ id: 'e', severity: 'info', raisedAt: 1 }),
      ],
      [{ level: 'crit', text: 'ignored', to: '/' }],
    );
    expect(out.map((a) => [a.key, a.level])).toEqual([
      ['b', 'crit'],
      ['c', 'warn'],
      ['a', 'warn'],
      ['e', 'info'],
    ]);
  });

  it('an empty agent list means no alerts (not the fallback)', () => {
    expect(stripAlerts([], [{ level: 'crit', text: 'x', to: '/' }])).toEqual([]);
  });
});

describe('safeAppLink', () => {
  it('keeps in-app paths and refuses anything that leaves the app', () => {
    expect(safeAppLink('/connections?peer=1.2.3.4')).toBe('/connections?peer=1.2.3.4');
    for (const bad of ['//evil.example/x', '/\\evil.example', 'https://evil.example', 'javascript:alert(1)', '', 'connections']) {
      expect(safeAppLink(bad)).toBe('/connections');
    }
  });
});
