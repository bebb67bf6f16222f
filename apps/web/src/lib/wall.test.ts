import { describe, expect, it } from 'vitest';
import type { Alert, AlertRuleConfig } from '@netscope/shared';
import {
  activeFor,
  bigFontSize,
  isLoopbackIface,
  parseRotate,
  rotationIndex,
  ruleExtras,
  servicesForWall,
  sortAlerts,
  staleText,
  thresholdText,
  toneFor,
  trafficOf,
  wallNumber,
  worstSeverity,
} from './wall';

const rule = (over: Partial<AlertRuleConfig> = {}): AlertRuleConfig => ({ enabled: true, severity: 'warning', threshold: 200, raiseAfterSec: 30, clearAfterSec: 60, ...over });
const alert = (over: Partial<Alert> = {}): Alert => ({
  id: 'established@1',
  instance: 'established',
  rule: 'established',
  key: null,
  severity: 'warning',
  title: 'ESTABLISHED: 250 connections (> 200)',
  meaning: '',
  lookAt: [],
  link: '/connections?state=ESTABLISHED',
  value: 250,
  peak: 250,
  threshold: 200,
  raisedAt: 1,
  clearedAt: null,
  ...over,
});

describe('wallNumber', () => {
  it.each([
    [0, '0'],
    [7, '7'],
    [9999, '9999'],
    [10_000, '10.0k'],
    [12_345, '12.3k'],
    [99_999, '99.9k'],
    [123_456, '123k'],
    [999_999, '999k'],
    [1_234_567, '1.23M'],
    [2_500_000_000, '2.50G'],
    [-12, '-12'],
    [12.6, '13'],
  ])('%d → %s', (n, text) => expect(wallNumber(n)).toBe(text));
  it('absent is a dash, never 0', () => {
    expect(wallNumber(null)).toBe('—');
    expect(wallNumber(undefined)).toBe('—');
    expect(wallNumber(Number.NaN)).toBe('—');
  });
  it('never needs more than five characters below a trillion', () => {
    for (let n = 1; n < 1e12; n = n * 1.37 + 1) expect(wallNumber(n).length).toBeLessThanOrEqual(5);
  });
});

describe('toneFor', () => {
  it('green below 80 %, amber from 80 %, severity colour above the threshold', () => {
    expect(toneFor(10, rule(), undefined)).toBe('ok');
    expect(toneFor(160, rule(), undefined)).toBe('warn');
    expect(toneFor(200, rule(), undefined)).toBe('warn');
    expect(toneFor(201, rule(), undefined)).toBe('warn');
    expect(toneFor(201, rule({ severity: 'critical' }), undefined)).toBe('crit');
    expect(toneFor(199, rule({ severity: 'critical' }), undefined)).toBe('warn');
  });
  it('an active alert wins, whatever the value now', () => {
    expect(toneFor(3, rule(), alert({ severity: 'critical' }))).toBe('crit');
    expect(toneFor(3, rule(), alert({ severity: 'info' }))).toBe('warn');
  });
  it('no rule, a disabled rule or no value: neutral', () => {
    expect(toneFor(10, undefined, undefined)).toBe('neutral');
    expect(toneFor(1e6, rule({ enabled: false }), undefined)).toBe('neutral');
    expect(toneFor(null, rule(), undefined)).toBe('neutral');
  });
  it('threshold 0: any value above is the severity, zero is ok', () => {
    expect(toneFor(0, rule({ threshold: 0 }), undefined)).toBe('ok');
    expect(toneFor(1, rule({ threshold: 0 }), undefined)).toBe('warn');
  });
});

describe('thresholdText', () => {
  it('says the threshold and how long it must hold', () => {
    expect(thresholdText(rule())).toBe('alert > 200 for 30 s');
    expect(thresholdText(rule({ threshold: 20, raiseAfterSec: 0.5 }))).toBe('alert > 20 for 0.5 s');
    expect(thresholdText(rule({ raiseAfterSec: 0 }))).toBe('alert > 200');
    expect(thresholdText(rule({ threshold: 50_000, raiseAfterSec: 120 }))).toBe('alert > 50.0k for 2 min');
    expect(thresholdText(rule({ enabled: false }))).toBe('alert off');
    expect(thresholdText(undefined)).toBe('');
  });
});

describe('alerts', () => {
  it('worst first, newest first within a severity', () => {
    const a = [alert({ id: 'a', severity: 'warning', raisedAt: 5 }), alert({ id: 'b', severity: 'critical', raisedAt: 1 }), alert({ id: 'c', severity: 'warning', raisedAt: 9 })];
    expect(sortAlerts(a).map((x) => x.id)).toEqual(['b', 'c', 'a']);
    expect(worstSeverity(a)).toBe('critical');
    expect(worstSeverity([])).toBeNull();
  });
  it('finds the host-wide alert of a tile', () => {
    const a = [alert({ rule: 'perRemote', key: '10.0.0.1' }), alert({ id: 'x', rule: 'synRecv' })];
    expect(activeFor(a, 'synRecv')?.id).toBe('x');
    expect(activeFor(a, 'timeWait')).toBeUndefined();
    expect(activeFor(a, null)).toBeUndefined();
  });
});

describe('staleText', () => {
  it('says when the data is from and how old it is', () => {
    const t = new Date(2026, 10, 22, 5, 6, 7).getTime();
    expect(staleText(t, t + 42_000)).toBe('data from 05:06:07, 42 s ago');
    expect(staleText(t, t + 125_000)).toBe('data from 05:06:07, 2 min 05 s ago');
    expect(staleText(null, t)).toBe('no data yet');
  });
});

describe('rotation', () => {
  it('parses ?rotate=SECONDS within 5–3600', () => {
    expect(parseRotate('30')).toBe(30);
    expect(parseRotate(['15', '30'])).toBe(15);
    for (const bad of [undefined, null, '', '0', '4', '3601', '1e3', '-5', '30s', ' 30', '999999']) expect(parseRotate(bad)).toBeNull();
  });
  it('steps through the panels and wraps', () => {
    expect(rotationIndex(0, 0, 30, 4)).toBe(0);
    expect(rotationIndex(29_999, 0, 30, 4)).toBe(0);
    expect(rotationIndex(30_000, 0, 30, 4)).toBe(1);
    expect(rotationIndex(120_000, 0, 30, 4)).toBe(0);
    expect(rotationIndex(-5, 0, 30, 4)).toBe(0);
    expect(rotationIndex(1e9, 0, 30, 0)).toBe(0);
  });
});

describe('traffic', () => {
  it('sums everything but loopback; null only when no rate is known', () => {
    expect(isLoopbackIface('lo')).toBe(true);
    expect(isLoopbackIface('lo0', 'LRU')).toBe(true);
    expect(isLoopbackIface('eth0', 'BMRU')).toBe(false);
    expect(trafficOf([{ name: 'lo', rx: 1e6, tx: 1e6 }, { name: 'eth0', rx: 10, tx: null }, { name: 'eth1', rx: 5, tx: null }])).toEqual({ rx: 15, tx: null });
    expect(trafficOf([])).toEqual({ rx: null, tx: null });
  });
});

describe('bigFontSize', () => {
  it('shrinks with the number of characters, never grows past the base', () => {
    expect(bigFontSize(4, 'var(--b)', 'var(--w)')).toBe('min(var(--b), calc(var(--w) / 2.88))');
    expect(bigFontSize(0, 'B', 'W')).toBe('min(B, calc(W / 0.72))');
  });
});

describe('ruleExtras', () => {
  it('lists the settings beyond the threshold', () => {
    expect(ruleExtras(rule())).toBe('');
    expect(ruleExtras(rule({ windowSec: 60 }))).toBe('window 1 min');
    expect(ruleExtras(rule({ windowSec: 90 }))).toBe('window 1 min 30 s');
    expect(ruleExtras(rule({ ports: [80, 443], ignoreLoopback: true }))).toBe('ports 80, 443 · loopback ignored');
  });
});

describe('servicesForWall', () => {
  it('puts the down services first, longest down first', () => {
    const s = (service: string, up: boolean, since: number, name: string | null = null) => ({ service, up, since, name });
    const out = servicesForWall([s('22/tcp', true, 1), s('443/tcp', false, 50, 'web'), s('53/udp', true, 2, 'dns'), s('5432/tcp', false, 10)]);
    expect(out.map((x) => x.service)).toEqual(['5432/tcp', '443/tcp', '22/tcp', '53/udp']);
  });
});
