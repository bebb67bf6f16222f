/** Alert rules and hysteresis on synthetic tick sequences (simulated clock: no sleeping). */
import { describe, expect, it } from 'vitest';
import type { AlertEvent, AlertRuleName, Snapshot, WatchedServiceConfig } from '@netscope/shared';
import { evaluate, initialState, MAX_KEYS_PER_RULE, type EvalState } from '../../src/alerts/evaluate.js';
import type { AlertsConfig } from '../../src/alerts/config.js';
import { at, cfg, conns, iface, listener, T0 } from './synthetic.js';

/** Feed snapshots in order; return every event and the final state. */
function run(snaps: readonly Snapshot[], config: AlertsConfig, state: EvalState = initialState()) {
  return runAll(snaps, config, state);
}

/** Only the rules a test sets up: the others off, so a synthetic crowd does not trip them too. */
function only(config: AlertsConfig, ...rules: AlertRuleName[]): AlertsConfig {
  for (const name of Object.keys(config.rules) as AlertRuleName[]) if (!rules.includes(name)) config.rules[name].enabled = false;
  return config;
}

function runAll(snaps: readonly Snapshot[], config: AlertsConfig, state: EvalState) {
  const events: AlertEvent[] = [];
  let prev: Snapshot | null = null;
  let last = null as ReturnType<typeof evaluate> | null;
  for (const s of snaps) {
    last = evaluate(s, prev, config, state);
    state = last.state;
    events.push(...last.events);
    prev = s;
  }
  return { events, state, last: last! };
}

const seq = (seconds: number, step: number, make: (sec: number, i: number) => Snapshot): Snapshot[] =>
  Array.from({ length: Math.floor(seconds / step) }, (_, i) => make(i * step, i));

describe('state-count rules', () => {
  it('raises SYN_RECV only after the condition held raiseAfterSec, with the top sources and kernel settings', () => {
    const config = cfg({ synRecv: { raiseAfterSec: 10, clearAfterSec: 30 } });
    const flood = () => [...conns(40, 'SYN_RECV', '198.51.100.9'), ...conns(20, 'SYN_RECV', '198.51.100.10')];
    const { events } = run(seq(9, 1, (s) => at(s, { sockets: flood() })), config);
    expect(events).toEqual([]); // 0..8 s: held 8 s < 10 s

    const r = run(seq(12, 1, (s) => at(s, { sockets: flood() })), config);
    expect(r.events).toHaveLength(1);
    const e = r.events[0]!;
    expect(e.kind).toBe('raised');
    expect(e.at).toBe(T0 + 10_000);
    expect(e.value).toBe(60);
    const a = e.alert;
    expect(a).toMatchObject({ rule: 'synRecv', instance: 'synRecv', severity: 'critical', threshold: 50, value: 60, link: '/connections?state=SYN_RECV', clearedAt: null });
    expect(a.title).toContain('60');
    expect(a.meaning).toMatch(/SYN flood/);
    const hint = (label: string) => a.lookAt.find((h) => h.label === label)?.value;
    expect(hint('Top source addresses')).toBe('198.51.100.9 (40), 198.51.100.10 (20)');
    expect(hint('net.ipv4.tcp_syncookies')).toBe(1);
    expect(hint('net.ipv4.tcp_max_syn_backlog')).toBe(4096);
    expect(r.last.active.map((x) => x.instance)).toEqual(['synRecv']);
  });

  it('counts NEW_SYN_RECV request sockets as SYN_RECV, and TCP only (a connected UDP socket is not ESTABLISHED)', () => {
    const config = cfg({ synRecv: { threshold: 2, raiseAfterSec: 0 }, established: { threshold: 2, raiseAfterSec: 0 } });
    const udp = conns(5, 'ESTABLISHED', '192.0.2.1', 53, { proto: 'udp' });
    const r = run([at(0, { sockets: [...conns(3, 'NEW_SYN_RECV'), ...udp] })], config);
    expect(r.events.map((e) => e.alert.rule)).toEqual(['synRecv']);
  });

  it('TIME_WAIT says what to look at: tcp_tw_reuse, tcp_fin_timeout, tcp_max_tw_buckets, the port range', () => {
    const config = cfg({ timeWait: { threshold: 10, raiseAfterSec: 0 } });
    const r = run([at(0, { sockets: conns(11, 'TIME_WAIT', '192.0.2.8', 8080) })], config);
    const a = r.events[0]!.alert;
    expect(a.link).toBe('/connections?state=TIME_WAIT');
    expect(Object.fromEntries(a.lookAt.map((h) => [h.label, h.value]))).toMatchObject({
      'net.ipv4.tcp_tw_reuse': 2,
      'net.ipv4.tcp_fin_timeout': 60,
      'net.ipv4.tcp_max_tw_buckets': 262144,
      'net.ipv4.ip_local_port_range': '32768–60999',
      'Top remote addresses': '192.0.2.8 (11)',
    });
  });

  it('CLOSE_WAIT names the programs holding them', () => {
    const config = cfg({ closeWait: { threshold: 1, raiseAfterSec: 0 } });
    const r = run([at(0, { sockets: conns(3, 'CLOSE_WAIT', '192.0.2.8', 8080, { program: 'java', pid: 4242 }) })], config);
    expect(r.events[0]!.alert.lookAt.find((h) => h.label === 'Programs holding them')?.value).toBe('java (4242) (3)');
  });

  it('seed thresholds are strict: exactly at the threshold does not raise', () => {
    const r = run(seq(100, 1, (s) => at(s, { sockets: conns(50, 'SYN_RECV') })), cfg());
    expect(r.events).toEqual([]);
  });
});

describe('hysteresis', () => {
  const config = only(cfg({ established: { threshold: 200, raiseAfterSec: 5, clearAfterSec: 10 } }), 'established');
  const est = (n: number) => conns(n, 'ESTABLISHED', '192.0.2.1', 80);

  it('a value oscillating around the threshold every tick never raises', () => {
    const r = run(seq(600, 1, (s, i) => at(s, { sockets: est(i % 2 === 0 ? 201 : 199) })), config);
    expect(r.events).toEqual([]);
  });

  it('a value above for 4 s, below for 1 s, repeated for 10 minutes never raises (each break restarts the wait)', () => {
    const r = run(seq(600, 1, (s, i) => at(s, { sockets: est(i % 5 === 4 ? 150 : 250) })), config);
    expect(r.events).toEqual([]);
  });

  it('once raised, oscillation keeps it raised; it clears once only, after clearAfterSec of continuous absence', () => {
    const high = seq(10, 1, (s) => at(s, { sockets: est(250) }));
    const wobble = seq(60, 1, (s, i) => at(10 + s, { sockets: est(i % 3 === 0 ? 250 : 150) })); // never 10 s below in a row
    const low = seq(20, 1, (s) => at(70 + s, { sockets: est(10) }));
    const r = run([...high, ...wobble, ...low], config);
    expect(r.events.map((e) => [e.kind, (e.at - T0) / 1000])).toEqual([
      ['raised', 5],
      ['cleared', 78], // last above at 67 s (wobble), below from 68 s: 10 s later
    ]);
    const cleared = r.events[1]!.alert;
    expect(cleared.clearedAt).toBe(T0 + 78_000);
    expect(cleared.raisedAt).toBe(T0 + 5_000);
    expect(cleared.peak).toBe(250);
    expect(cleared.id).toBe(r.events[0]!.alert.id);
    expect(r.last.active).toEqual([]);
  });

  it('raiseAfterSec 0 raises on the first tick; clearAfterSec 0 clears on the first tick without it', () => {
    const c = cfg({ established: { threshold: 1, raiseAfterSec: 0, clearAfterSec: 0 } });
    const r = run([at(0, { sockets: est(2) }), at(1, { sockets: est(0) })], c);
    expect(r.events.map((e) => e.kind)).toEqual(['raised', 'cleared']);
  });

  it('the active alert follows the value while raised (value, peak, title)', () => {
    const c = cfg({ established: { threshold: 1, raiseAfterSec: 0, clearAfterSec: 60 } });
    const r = run([at(0, { sockets: est(5) }), at(1, { sockets: est(9) }), at(2, { sockets: est(7) })], c);
    expect(r.last.active[0]).toMatchObject({ value: 7, peak: 9, title: 'ESTABLISHED: 7 connections (> 1)' });
  });

  it('does not modify the state it is given (pure)', () => {
    const c = cfg({ established: { threshold: 1, raiseAfterSec: 0 } });
    const s0 = initialState();
    const r1 = evaluate(at(0, { sockets: est(5) }), null, c, s0);
    expect(s0.tracks.size).toBe(0);
    const frozen = JSON.stringify([...r1.state.tracks]);
    evaluate(at(1, { sockets: est(0) }), null, c, r1.state);
    expect(JSON.stringify([...r1.state.tracks])).toBe(frozen);
  });

  it('an alert restored after a restart is not raised twice, and clears normally', () => {
    const c = cfg({ established: { threshold: 1, raiseAfterSec: 0, clearAfterSec: 2 } });
    const first = run([at(0, { sockets: est(5) })], c);
    const restored = initialState(first.last.active);
    const again = run([at(100, { sockets: est(5) }), at(101, { sockets: est(0) }), at(103, { sockets: est(0) })], c, restored);
    expect(again.events.map((e) => e.kind)).toEqual(['cleared']);
    expect(again.events[0]!.alert.raisedAt).toBe(T0);
  });

  it('an active alert that is clearing says today\'s value, not the one it was raised with', () => {
    const c = cfg({ established: { threshold: 1, raiseAfterSec: 0, clearAfterSec: 60 } });
    const first = run([at(0, { sockets: est(5) })], c);
    expect(first.last.active[0]!.title).toMatch(/ESTABLISHED: 5 connections/);
    const restored = initialState(first.last.active);
    const later = run([at(100, { sockets: est(0) })], c, restored);
    expect(later.events).toEqual([]); // still within clearAfterSec
    expect(later.last.active[0]).toMatchObject({ value: 0, peak: 5 });
    expect(later.last.active[0]!.title).toMatch(/ESTABLISHED: 0 connections/);
  });

  it('a rule disabled while its alert is active clears it at once', () => {
    const on = cfg({ established: { threshold: 1, raiseAfterSec: 0 } });
    const first = run([at(0, { sockets: est(5) })], on);
    const off = cfg({ established: { enabled: false } });
    const r = run([at(1, { sockets: est(5) })], off, first.state);
    expect(r.events.map((e) => e.kind)).toEqual(['cleared']);
  });
});

describe('per-address and per-port rules', () => {
  it('one remote address over 50 connections raises for that address, linking to it', () => {
    const config = cfg({ perRemote: { raiseAfterSec: 0 } });
    const r = run([at(0, { sockets: [...conns(51, 'ESTABLISHED', '203.0.113.50', 443), ...conns(50, 'ESTABLISHED', '203.0.113.51', 443)] })], config);
    expect(r.events.map((e) => e.alert.instance)).toEqual(['perRemote:203.0.113.50']);
    const a = r.events[0]!.alert;
    expect(a).toMatchObject({ key: '203.0.113.50', link: '/remote?address=203.0.113.50', value: 51 });
    expect(a.lookAt.find((h) => h.label === 'Their states')?.value).toBe('ESTABLISHED (51)');
    expect(a.lookAt.find((h) => h.label === 'Local ports they use')?.value).toBe('443 (51)');
  });

  it('folds v4-mapped IPv6 peers into the IPv4 address; ignores loopback peers unless told not to', () => {
    const mixed = [...conns(30, 'ESTABLISHED', '::ffff:203.0.113.5', 443, { proto: 'tcp6', family: 6 }), ...conns(30, 'ESTABLISHED', '203.0.113.5', 443)];
    const r = run([at(0, { sockets: mixed })], cfg({ perRemote: { raiseAfterSec: 0 } }));
    expect(r.events.map((e) => e.alert.instance)).toEqual(['perRemote:203.0.113.5']);

    const local = conns(60, 'ESTABLISHED', '127.0.0.1', 5432);
    expect(run([at(0, { sockets: local })], cfg({ perRemote: { raiseAfterSec: 0 } })).events).toEqual([]);
    expect(run([at(0, { sockets: local })], cfg({ perRemote: { raiseAfterSec: 0, ignoreLoopback: false } })).events).toHaveLength(1);
  });

  it('one local port over 100 connections raises for that port, naming the listener', () => {
    const sockets = [listener(443, 'nginx'), ...conns(101, 'ESTABLISHED', '198.51.100.1', 443).map((s, i) => ({ ...s, remoteAddress: `198.51.100.${i % 7}` }))];
    const r = run([at(0, { sockets })], cfg({ perLocalPort: { raiseAfterSec: 0 } }));
    const a = r.events.find((e) => e.alert.rule === 'perLocalPort')!.alert;
    expect(a).toMatchObject({ instance: 'perLocalPort:443', link: '/connections?port=443', value: 101 });
    expect(a.lookAt[0]!.value).toBe('nginx (100) on 0.0.0.0:443');
  });

  it('watches at most MAX_KEYS_PER_RULE addresses per tick, so a flood from many sources keeps the state bounded', () => {
    const sockets = Array.from({ length: 200 }, (_, i) => conns(51, 'SYN_RECV', `10.9.${i >> 8}.${i & 255}`, 80)).flat();
    const r = run([at(0, { sockets }), at(1, { sockets })], cfg({ perRemote: { raiseAfterSec: 0 } }));
    expect(r.last.active.length).toBe(MAX_KEYS_PER_RULE);
    expect(r.state.tracks.size).toBeLessThanOrEqual(MAX_KEYS_PER_RULE + 2);
  });
});

describe('watched services', () => {
  const ssh: WatchedServiceConfig = { port: 22, proto: 'tcp', program: 'sshd', name: 'ssh' };
  const dns: WatchedServiceConfig = { port: 53, proto: 'udp', program: null, name: null };

  it('reports up/down and since when; a service going down raises after raiseAfterSec and clears when back', () => {
    const config = cfg({ serviceDown: { raiseAfterSec: 5, clearAfterSec: 2 } }, [ssh, dns]);
    const up = () => [listener(22, 'sshd'), listener(53, null, 'udp')];
    const down = () => [listener(53, null, 'udp')];
    const snaps = [...seq(3, 1, (s) => at(s, { sockets: up() })), ...seq(10, 1, (s) => at(3 + s, { sockets: down() })), ...seq(5, 1, (s) => at(13 + s, { sockets: up() }))];
    const r = run(snaps, config);
    expect(r.events.map((e) => [e.kind, e.alert.instance, (e.at - T0) / 1000])).toEqual([
      ['raised', 'serviceDown:22/tcp', 8],
      ['cleared', 'serviceDown:22/tcp', 15],
    ]);
    const raised = r.events[0]!.alert;
    expect(raised.title).toBe('ssh (22/tcp) is not listening (expected sshd)');
    expect(raised.link).toBe('/listening?port=22&proto=tcp');
    const [s22, s53] = r.last.services;
    expect(s22).toMatchObject({ service: '22/tcp', up: true, since: T0 + 13_000, sinceAgentStart: false });
    expect(s22!.listeners[0]).toEqual({ address: '0.0.0.0:22', program: 'sshd', pid: 100 });
    expect(s53).toMatchObject({ service: '53/udp', up: true, since: T0, sinceAgentStart: true });
  });

  it('another program on the port is down (with why); an owner hidden from a non-root agent is up with a caveat', () => {
    const config = cfg({ serviceDown: { raiseAfterSec: 0 } }, [ssh]);
    const wrong = run([at(0, { sockets: [listener(22, 'dropbear')] })], config);
    expect(wrong.last.services[0]).toMatchObject({ up: false, note: '22/tcp is listening, but by dropbear, not sshd' });
    expect(wrong.events[0]!.alert.lookAt[0]).toMatchObject({ label: 'Why', value: '22/tcp is listening, but by dropbear, not sshd' });
    const hidden = run([at(0, { sockets: [listener(22, null)] })], config);
    expect(hidden.last.services[0]!.up).toBe(true);
    expect(hidden.last.services[0]!.note).toMatch(/not root/);
    expect(hidden.events).toEqual([]);
  });

  it('a TCP client using the port, or an established socket, does not count as listening', () => {
    const config = cfg({}, [{ port: 8080, proto: 'tcp', program: null, name: null }]);
    const r = run([at(0, { sockets: conns(3, 'ESTABLISHED', '192.0.2.1', 8080) })], config);
    expect(r.last.services[0]).toMatchObject({ up: false, note: 'nothing listens on 8080/tcp' });
  });
});

describe('counter rules', () => {
  it('interface errors/drops rising over the window raise per interface; steady counters clear', () => {
    const config = cfg({ interfaceErrors: { threshold: 5, windowSec: 10, raiseAfterSec: 3, clearAfterSec: 5 } });
    let errs = 100;
    const snaps: Snapshot[] = [];
    for (let s = 0; s < 40; s++) {
      if (s >= 5 && s < 20) errs += 2; // 2 errors/s for 15 s
      snaps.push(at(s, { interfaces: [iface('eth0', errs), iface('lo', 0)] }));
    }
    const r = run(snaps, config);
    expect(r.events.map((e) => [e.kind, e.alert.instance])).toEqual([
      ['raised', 'interfaceErrors:eth0'],
      ['cleared', 'interfaceErrors:eth0'],
    ]);
    const a = r.events[0]!.alert;
    expect(a.link).toBe('/interfaces?name=eth0');
    expect(a.title).toMatch(/^eth0: \d+ errors\/drops in 10 s/);
  });

  it('an interface counter reset (re-created interface) is not an increase', () => {
    const config = cfg({ interfaceErrors: { threshold: 0, windowSec: 10, raiseAfterSec: 0 } });
    const r = run([at(0, { interfaces: [iface('veth1', 5000)] }), at(1, { interfaces: [iface('veth1', 0)] }), at(2, { interfaces: [iface('veth1', 0)] })], config);
    expect(r.events).toEqual([]);
  });

  it('TcpExt.ListenDrops rising raises listenOverflows, with somaxconn and the fullest accept queues', () => {
    const config = cfg({ listenOverflows: { threshold: 0, windowSec: 30, raiseAfterSec: 2, clearAfterSec: 5 } });
    const stats = (drops: number) => ({ counters: { TcpExt: { ListenDrops: drops, ListenOverflows: drops } }, rates: {} });
    const full = { ...listener(80, 'nginx'), recvQ: 129, sendQ: 128 };
    const snaps = [at(0, { stats: stats(10) }), at(1, { stats: stats(10) }), at(2, { stats: stats(25), sockets: [full] }), at(3, { stats: stats(30), sockets: [full] }), at(4, { stats: stats(31), sockets: [full] })];
    const r = run(snaps, config);
    expect(r.events).toHaveLength(1);
    const a = r.events[0]!.alert;
    expect(a.value).toBe(21);
    expect(a.lookAt.find((h) => h.label === 'Fullest accept queues (Recv-Q)')?.value).toBe('0.0.0.0:80 nginx 129/128');
    expect(a.lookAt.find((h) => h.label === 'net.core.somaxconn')?.value).toBe(4096);
  });
});

describe('perLocalPort.ports', () => {
  it('watches only the listed ports, even when busier ports crowd the top', () => {
    const busy = Array.from({ length: 30 }, (_, i) => conns(300, 'ESTABLISHED', `192.0.2.${i}`, 40000 + i)).flat();
    const mine = conns(30, 'ESTABLISHED', '127.0.0.1', 8443);
    const config = cfg({ perLocalPort: { threshold: 20, raiseAfterSec: 0, ports: [8443] }, perRemote: { enabled: false }, established: { enabled: false } });
    const r = run([at(0, { sockets: [...busy, ...mine] })], config);
    expect(r.events.map((e) => e.alert.instance)).toEqual(['perLocalPort:8443']);
  });
});
