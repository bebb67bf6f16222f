/**
 * The alert evaluator. Pure: `evaluate(snapshot, prevSnapshot, config, state, now)` returns the
 * next state, the raised/cleared events, the active alerts and the watched services' status.
 * The input state is not modified.
 *
 * Hysteresis, per alert instance (a rule, or a rule + address/port/interface/service):
 *   - inactive: the condition must hold on every tick for raiseAfterSec before the alert is raised;
 *     one tick without it restarts the wait.
 *   - active: the condition must be absent on every tick for clearAfterSec before it clears;
 *     one tick with it restarts the wait.
 * So a value oscillating around the threshold never raises (nor, once raised, clears): no flapping.
 */
import type {
  Alert,
  AlertEvent,
  AlertHint,
  AlertRuleConfig,
  AlertRuleName,
  AlertRulesConfig,
  KernelSettings,
  NetInterface,
  Snapshot,
  WatchedServiceConfig,
  WatchedServiceStatus,
} from '@netscope/shared';
import { compareText, formatEndpoint } from '@netscope/shared';
import { alertGroup, breakdown, isLoopback, measure, top, topText, type Breakdown, type Measures } from './measure.js';
import { serviceId, watchServices } from './services.js';

export interface EvaluateConfig {
  rules: AlertRulesConfig;
  services: readonly WatchedServiceConfig[];
}

interface Track {
  /** Inactive: since when the condition has held (null: it does not). */
  pendingSince: number | null;
  /** Active: the alert; null while inactive. */
  active: Alert | null;
  /** Active: since when the condition has been absent. */
  clearingSince: number | null;
}

/** Counter samples for the window rules: [time, value], oldest first, at most ~1 per second. */
type Samples = readonly (readonly [number, number])[];

export interface EvalState {
  tracks: ReadonlyMap<string, Track>;
  services: ReadonlyMap<string, WatchedServiceStatus>;
  windows: ReadonlyMap<string, Samples>;
}

export interface EvalResult {
  state: EvalState;
  events: AlertEvent[];
  /** Active alerts, most severe first, then oldest first. */
  active: Alert[];
  services: WatchedServiceStatus[];
}

/** Fresh state, or the one a previous run left: active alerts and watched services' last status. */
export function initialState(restored: readonly Alert[] = [], services: readonly WatchedServiceStatus[] = []): EvalState {
  const tracks = new Map<string, Track>();
  for (const a of restored) tracks.set(a.instance, { pendingSince: null, active: { ...a, clearedAt: null }, clearingSince: null });
  return { tracks, services: new Map(services.map((s) => [s.service, s])), windows: new Map() };
}

/** Per-key rules watch at most this many keys (the largest values) per tick: bounded state under a flood from many addresses. */
export const MAX_KEYS_PER_RULE = 20;

/** What an alert says, built from the tick's figures. */
interface Details {
  title: string;
  meaning: string;
  lookAt: AlertHint[];
  link: string;
}

interface Candidate {
  rule: AlertRuleName;
  key: string | null;
  value: number;
  firing: boolean;
  details: () => Details;
}

const instanceOf = (rule: AlertRuleName, key: string | null): string => (key === null ? rule : `${rule}:${key}`);

const setting = (label: string, value: number | string | null, note: string): AlertHint => ({ label, value, note });

function kernelHints(k: KernelSettings, which: readonly (keyof KernelSettings)[]): AlertHint[] {
  const notes: Record<keyof KernelSettings, [string, string]> = {
    tcpSyncookies: ['net.ipv4.tcp_syncookies', '1: answer with SYN cookies once the SYN backlog overflows (recommended); 0: off, a flood fills the backlog and real clients are refused'],
    tcpMaxSynBacklog: ['net.ipv4.tcp_max_syn_backlog', 'half-open connections queued per listener before cookies or drops'],
    somaxconn: ['net.core.somaxconn', 'upper bound of a listener\'s accept queue (listen() backlog is capped to it)'],
    tcpTwReuse: ['net.ipv4.tcp_tw_reuse', 'reuse TIME_WAIT ports for new outgoing connections: 1 on, 2 loopback only (default), 0 off'],
    tcpFinTimeoutSec: ['net.ipv4.tcp_fin_timeout', 'seconds an orphaned connection stays in FIN_WAIT2 (TIME_WAIT itself is fixed at 60 s)'],
    tcpMaxTwBuckets: ['net.ipv4.tcp_max_tw_buckets', 'TIME_WAIT sockets kept at most; beyond it the kernel destroys them early ("time wait bucket table overflow")'],
    ipLocalPortRange: ['net.ipv4.ip_local_port_range', 'ephemeral ports for outgoing connections; TIME_WAIT holds them for 60 s'],
  };
  return which.map((key) => {
    const [label, note] = notes[key];
    const raw = k[key];
    const value = raw === null ? null : Array.isArray(raw) ? `${raw[0]}–${raw[1]}` : raw;
    return setting(label, value, note);
  });
}


function counter(snap: Pick<Snapshot, 'stats'>, group: string, name: string): number | null {
  return snap.stats.counters[group]?.[name] ?? null;
}

/** Increase of a counter over the rule's window, updating its samples. Counter reset → start over. */
function windowIncrease(samples: Samples | undefined, now: number, value: number, windowMs: number): { increase: number; samples: Samples } {
  let list = samples ? [...samples] : [];
  const last = list[list.length - 1];
  if (last && value < last[1]) list = []; // reset (interface re-created, counters wrapped)
  const newest = list[list.length - 1];
  // At most one sample per second (per windowMs/10 for short windows): at most ~windowSec+1 per key.
  if (!newest || now - newest[0] >= Math.min(1000, windowMs / 10)) list.push([now, value]);
  // Baseline: the newest sample at least windowMs old, or the oldest held (window not yet full).
  let cut = 0;
  for (let i = 0; i < list.length; i++) if (now - list[i]![0] >= windowMs) cut = i;
  list = list.slice(cut);
  const base = list[0]!;
  return { increase: Math.max(0, value - base[1]), samples: list };
}

const ifErrSum = (i: NetInterface): number => i.counters.rxErrs + i.counters.txErrs + i.counters.rxDrop + i.counters.txDrop;

export function evaluate(
  snap: Snapshot,
  prev: Snapshot | null,
  config: EvaluateConfig,
  state: EvalState,
  now: number = snap.time,
  /** measure(snap), when the caller has it already (the monitor's incremental MeasureCounts). */
  measures?: Measures,
): EvalResult {
  const { rules } = config;
  const m: Measures = measures ?? measure(snap);
  const k = snap.kernel;
  /** The breakdown an alert's text shows (computed only for the text: at raise, and while active). */
  const groupOf = (rule: AlertRuleName, key: string | null): Breakdown => breakdown(m, snap.sockets, alertGroup(rule, key));
  const candidates: Candidate[] = [];
  const windows = new Map<string, Samples>();

  const stateRule = (rule: AlertRuleName, stateName: string, details: (v: number, thr: number) => Details): void => {
    const cfg = rules[rule];
    if (!cfg.enabled) return;
    const value = m.states.get(stateName) ?? 0;
    candidates.push({ rule, key: null, value, firing: value > cfg.threshold, details: () => details(value, cfg.threshold) });
  };

  stateRule('synRecv', 'SYN_RECV', (v, thr) => ({
    title: `SYN_RECV: ${v} half-open connections (> ${thr})`,
    meaning:
      'Many connection attempts got our SYN+ACK but never completed the handshake (normally fewer than 5): a SYN flood, ' +
      'spoofed sources, or a server too slow to accept. Real clients may be refused once the SYN backlog is full.',
    lookAt: [
      setting('Top source addresses', topText(m.synRecvSources, 5), 'block or rate-limit a few dominant sources; many scattered ones suggest spoofing (rely on syncookies)'),
      ...kernelHints(k, ['tcpSyncookies', 'tcpMaxSynBacklog', 'somaxconn']),
      setting('TcpExt.ListenDrops', counter(snap, 'TcpExt', 'ListenDrops'), 'connection attempts dropped by listeners since boot'),
    ],
    link: '/connections?state=SYN_RECV',
  }));

  stateRule('timeWait', 'TIME_WAIT', (v, thr) => ({
    title: `TIME_WAIT: ${v} connections (> ${thr})`,
    meaning:
      'The side that closes first keeps the connection in TIME_WAIT for 2×MSL (60 s on Linux). Thousands mean many short ' +
      'connections (no keep-alive, a client hammering an upstream); they hold ephemeral ports and can exhaust them.',
    lookAt: [
      setting('Top remote addresses', topText(groupOf('timeWait', null).byRemote, 5), 'who the short connections go to or come from: use keep-alive / connection pooling there'),
      ...kernelHints(k, ['tcpTwReuse', 'tcpFinTimeoutSec', 'tcpMaxTwBuckets', 'ipLocalPortRange']),
    ],
    link: '/connections?state=TIME_WAIT',
  }));

  stateRule('closeWait', 'CLOSE_WAIT', (v, thr) => ({
    title: `CLOSE_WAIT: ${v} connections (> ${thr})`,
    meaning:
      'The peer closed these connections but the local application never called close(): a socket leak or a stuck ' +
      'application. The kernel does not time them out; only the application (or restarting it) frees them.',
    lookAt: [
      setting('Programs holding them', topText(m.closeWaitOwners, 5), 'the application to fix or restart (owners need root to be seen)'),
      setting('Top local ports', topText(groupOf('closeWait', null).byLocalPort, 5), 'the service whose connections leak'),
    ],
    link: '/connections?state=CLOSE_WAIT',
  }));

  stateRule('established', 'ESTABLISHED', (v, thr) => {
    const b = groupOf('established', null);
    return {
      title: `ESTABLISHED: ${v} connections (> ${thr})`,
      meaning:
        'More open connections than expected: real load (users online, concurrency) or a flood of connections. ' +
        'Few dominant remote addresses point at a client or an attack rather than load.',
      lookAt: [
        setting('Top remote addresses', topText(b.byRemote, 5), 'one address far ahead of the rest: see the per-address rule'),
        setting('Top local ports', topText(b.byLocalPort, 5), 'which service carries them'),
        ...kernelHints(k, ['somaxconn']),
      ],
      link: '/connections?state=ESTABLISHED',
    };
  });

  // Per-key rules: the keys above the threshold (largest first, bounded) plus every key already tracked.
  const keyed = <K extends string | number>(
    rule: 'perRemote' | 'perLocalPort',
    counts: ReadonlyMap<K, number>,
    skip: (key: K) => boolean,
    details: (key: K, value: number, thr: number) => Details,
  ): void => {
    const cfg = rules[rule];
    if (!cfg.enabled) return;
    // Only the keys over the threshold are ranked (usually none): the per-tick cost stays one pass.
    const over = new Map<K, number>();
    counts.forEach((n, key) => {
      if (n > cfg.threshold && !skip(key)) over.set(key, n);
    });
    const values = counts;
    const keysOver = top(over, MAX_KEYS_PER_RULE);
    const keys = new Map<string, K>(keysOver.map(([key]) => [String(key), key]));
    for (const inst of state.tracks.keys()) {
      if (!inst.startsWith(`${rule}:`)) continue;
      const raw = inst.slice(rule.length + 1);
      if (!keys.has(raw)) keys.set(raw, (rule === 'perLocalPort' ? Number(raw) : raw) as K);
    }
    for (const [text, key] of keys) {
      const value = values.get(key) ?? 0;
      candidates.push({ rule, key: text, value, firing: value > cfg.threshold, details: () => details(key, value, cfg.threshold) });
    }
  };

  keyed(
    'perRemote',
    m.byRemote,
    (addr) => addr === '0.0.0.0' || addr === '::' || (rules.perRemote.ignoreLoopback === true && isLoopback(addr)),
    (addr, v, thr) => {
      const b = groupOf('perRemote', addr);
      return {
        title: `${addr}: ${v} connections from one address (> ${thr})`,
        meaning:
          'One remote address holds many connections: a crawler, a misbehaving client or connection pool, a proxy/NAT ' +
          'gathering many users, or one source of a DoS.',
        lookAt: [
          setting('Their states', topText(b.byState, 6), 'mostly SYN_RECV: a SYN flood from this source; mostly ESTABLISHED: a heavy client'),
          setting('Local ports they use', topText(b.byLocalPort, 5), 'the service concerned'),
        ],
        link: `/remote?address=${encodeURIComponent(addr)}`,
      };
    },
  );

  const onlyPorts = rules.perLocalPort.ports ? new Set(rules.perLocalPort.ports) : null;
  keyed(
    'perLocalPort',
    m.byLocalPort,
    (port) => port === 0 || (onlyPorts !== null && !onlyPorts.has(port)),
    (port, v, thr) => {
      const owner = [...m.listeners].find((l) => l.localPort === port);
      const b = groupOf('perLocalPort', String(port));
      return {
        title: `Port ${port}: ${v} connections (> ${thr})`,
        meaning:
          'One local port holds many connections: a busy service (or one under attack) when something listens on it, ' +
          'otherwise many outgoing connections sharing one source port.',
        lookAt: [
          setting('Listening program', owner ? `${owner.program ?? 'unknown owner'}${owner.pid !== null ? ` (${owner.pid})` : ''} on ${formatEndpoint(owner.localAddress, owner.localPort)}` : 'nothing listens on this port', 'the service concerned'),
          setting('Their states', topText(b.byState, 6), 'many CLOSE_WAIT: the service leaks sockets; many SYN_RECV: a flood'),
          setting('Top remote addresses', topText(b.byRemote, 5), 'one address far ahead: see the per-address rule'),
          setting('Accept backlog (Recv-Q of the listener)', owner ? owner.recvQ : null, 'connections waiting for accept(); near the backlog limit means the service is too slow'),
        ],
        link: `/connections?port=${port}`,
      };
    },
  );

  // Watched services.
  const services = watchServices(snap, config.services, state.services, now);
  if (rules.serviceDown.enabled) {
    for (const s of services) {
      const id = serviceId(s);
      const label = s.name ? `${s.name} (${id})` : id;
      candidates.push({
        rule: 'serviceDown',
        key: id,
        value: s.listeners.length,
        firing: !s.up,
        details: () => {
          // Only for the alert's text (raise, and each tick while down): one pass over the sockets.
          const onPort = snap.sockets.filter((x) => x.proto !== 'unix' && x.localPort === s.port && (s.proto === 'tcp' ? x.proto.startsWith('tcp') : x.proto.startsWith('udp')));
          return {
            title: `${label} is not listening${s.program ? ` (expected ${s.program})` : ''}`,
            meaning: 'A service expected to listen has no listening socket: it stopped, crashed, failed to start, or bound another port or address.',
            lookAt: [
              setting('Why', s.note, 'from the listening sockets seen this tick'),
              setting('Other sockets on the port', onPort.length ? onPort.slice(0, 5).map((x) => `${x.proto} ${x.state}${x.program ? ` ${x.program}` : ''}`).join(', ') : null, 'a client using the port, or a listener of another program'),
              setting('Expected program', s.program, 'check its service manager (systemctl status …) and its log'),
            ],
            link: `/listening?port=${s.port}&proto=${s.proto}`,
          };
        },
      });
    }
  }

  // Interface errors / drops: increase over the window, per interface.
  {
    const cfg = rules.interfaceErrors;
    if (cfg.enabled) {
      const windowMs = (cfg.windowSec ?? 60) * 1000;
      for (const iface of snap.interfaces.slice(0, 256)) {
        const wkey = `if:${iface.name}`;
        let samples = state.windows.get(wkey);
        const before = prev?.interfaces.find((i) => i.name === iface.name);
        if (!samples && before && prev) samples = [[prev.time, ifErrSum(before)]];
        const w = windowIncrease(samples, now, ifErrSum(iface), windowMs);
        windows.set(wkey, w.samples);
        const inst = instanceOf('interfaceErrors', iface.name);
        if (w.increase <= cfg.threshold && !state.tracks.has(inst)) continue;
        const c = iface.counters;
        const r = iface.rates;
        const perSec = (x: number | null): string => (x === null ? '—' : `${Math.round(x * 10) / 10}/s`);
        candidates.push({
          rule: 'interfaceErrors',
          key: iface.name,
          value: w.increase,
          firing: w.increase > cfg.threshold,
          details: () => ({
            title: `${iface.name}: ${w.increase} errors/drops in ${cfg.windowSec ?? 60} s (> ${cfg.threshold})`,
            meaning:
              'The interface is dropping or corrupting packets: a bad cable, port or NIC (errors), a full receive ring or ' +
              'backlog (drops, fifo), or more traffic than the host can take.',
            lookAt: [
              setting('RX errors / drops / fifo', `${c.rxErrs} / ${c.rxDrop} / ${c.rxFifo} (now ${perSec(r.rxErrsPerSec)} / ${perSec(r.rxDropPerSec)})`, 'totals since the interface came up, and their rate'),
              setting('TX errors / drops / carrier', `${c.txErrs} / ${c.txDrop} / ${c.txCarrier} (now ${perSec(r.txErrsPerSec)} / ${perSec(r.txDropPerSec)})`, 'carrier errors: link problems'),
              setting('Link', `${iface.operstate ?? '?'}${iface.speedMbps !== null ? `, ${iface.speedMbps} Mbit/s` : ''}, MTU ${iface.mtu ?? '?'}`, `details: ip -s link show ${iface.name}; ethtool -S ${iface.name}`),
            ],
            link: `/interfaces?name=${encodeURIComponent(iface.name)}`,
          }),
        });
      }
    }
  }

  // Listen queue overflows: TcpExt.ListenDrops (which counts ListenOverflows too) over the window.
  {
    const cfg = rules.listenOverflows;
    const drops = counter(snap, 'TcpExt', 'ListenDrops') ?? counter(snap, 'TcpExt', 'ListenOverflows');
    if (cfg.enabled && drops !== null) {
      const windowMs = (cfg.windowSec ?? 60) * 1000;
      let samples = state.windows.get('listenDrops');
      const prevDrops = prev ? (counter(prev, 'TcpExt', 'ListenDrops') ?? counter(prev, 'TcpExt', 'ListenOverflows')) : null;
      if (!samples && prev && prevDrops !== null) samples = [[prev.time, prevDrops]];
      const w = windowIncrease(samples, now, drops, windowMs);
      windows.set('listenDrops', w.samples);
      const busiest = [...m.listeners].sort((a, b) => b.recvQ - a.recvQ).slice(0, 3);
      candidates.push({
        rule: 'listenOverflows',
        key: null,
        value: w.increase,
        firing: w.increase > cfg.threshold,
        details: () => ({
          title: `Listen queues overflowing: ${w.increase} connection attempts dropped in ${cfg.windowSec ?? 60} s`,
          meaning:
            'A listening socket\'s accept queue was full, so the kernel dropped incoming connections: the application does ' +
            'not accept() fast enough, or its backlog is too small. Clients see timeouts and retries.',
          lookAt: [
            setting('TcpExt.ListenOverflows / ListenDrops', `${counter(snap, 'TcpExt', 'ListenOverflows') ?? '—'} / ${counter(snap, 'TcpExt', 'ListenDrops') ?? '—'}`, 'totals since boot'),
            setting('Fullest accept queues (Recv-Q)', busiest.length ? busiest.map((l) => `${formatEndpoint(l.localAddress, l.localPort)} ${l.program ?? ''} ${l.recvQ}/${l.sendQ}`.replace(/\s+/g, ' ')).join(', ') : null, 'Recv-Q/Send-Q of a listener: queued connections / backlog'),
            ...kernelHints(k, ['somaxconn', 'tcpMaxSynBacklog', 'tcpSyncookies']),
          ],
          link: '/listening',
        }),
      });
    }
  }

  // Hysteresis over the candidates; tracked instances without a candidate (rule disabled, interface gone) count as not firing.
  const tracks = new Map<string, Track>();
  const events: AlertEvent[] = [];
  const seen = new Set<string>();
  const step = (c: Candidate, cfg: AlertRuleConfig): void => {
    const inst = instanceOf(c.rule, c.key);
    seen.add(inst);
    const prevTrack = state.tracks.get(inst);
    const t: Track = prevTrack ? { ...prevTrack } : { pendingSince: null, active: null, clearingSince: null };
    if (t.active === null) {
      if (!c.firing) return; // nothing pending: not kept
      t.pendingSince ??= now;
      if (now - t.pendingSince >= cfg.raiseAfterSec * 1000) {
        const d = c.details();
        const alert: Alert = {
          id: `${inst}@${now}`,
          instance: inst,
          rule: c.rule,
          key: c.key,
          severity: cfg.severity,
          ...d,
          value: c.value,
          peak: c.value,
          threshold: cfg.threshold,
          raisedAt: now,
          clearedAt: null,
        };
        t.active = alert;
        t.pendingSince = null;
        t.clearingSince = null;
        events.push({ kind: 'raised', at: now, value: c.value, alert });
      }
      tracks.set(inst, t);
      return;
    }
    // Active: refresh what it says (also while clearing, so a restored or fading alert shows today's
    // value, not the one it was raised with), then see whether it clears.
    const d = c.details();
    const updated: Alert = { ...t.active, ...d, severity: cfg.severity, threshold: cfg.threshold, value: c.value, peak: Math.max(t.active.peak, c.value) };
    if (c.firing) {
      t.clearingSince = null;
    } else {
      t.clearingSince ??= now;
      if (now - t.clearingSince >= cfg.clearAfterSec * 1000) {
        const cleared: Alert = { ...updated, clearedAt: now };
        events.push({ kind: 'cleared', at: now, value: c.value, alert: cleared });
        return; // dropped from the tracks
      }
    }
    t.active = updated;
    tracks.set(inst, t);
  };
  for (const c of candidates) step(c, rules[c.rule]);
  for (const [inst, t] of state.tracks) {
    if (seen.has(inst) || t.active === null) continue;
    const rule = t.active.rule;
    const cfg = rules[rule];
    if (!cfg.enabled) {
      events.push({ kind: 'cleared', at: now, value: t.active.value, alert: { ...t.active, clearedAt: now } });
      continue;
    }
    step({ rule, key: t.active.key, value: 0, firing: false, details: () => ({ title: t.active!.title, meaning: t.active!.meaning, lookAt: t.active!.lookAt, link: t.active!.link }) }, cfg);
  }

  const severityRank = { critical: 0, warning: 1, info: 2 } as const;
  const active = [...tracks.values()]
    .flatMap((t) => (t.active ? [t.active] : []))
    .sort((a, b) => severityRank[a.severity] - severityRank[b.severity] || a.raisedAt - b.raisedAt || compareText(a.instance, b.instance));

  return {
    state: { tracks, services: new Map(services.map((s) => [s.service, s])), windows },
    events,
    active,
    services,
  };
}
