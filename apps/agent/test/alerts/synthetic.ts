/** Synthetic snapshots for the alert and history tests: n sockets in a state, interfaces, counters. */
import type { InetSocket, NetInterface, Snapshot, TcpState } from '@netscope/shared';
import { inet, snapshot } from '../../../../packages/shared/test/fixtures.js';
import { defaultAlertsConfig, type AlertsConfig } from '../../src/alerts/config.js';
import type { AlertRuleName, AlertRuleConfig } from '@netscope/shared';

export const T0 = 1_700_000_000_000;

let nextPort = 10_000;

/** `n` TCP sockets in `state` from `remote` to local port `localPort`. */
export function conns(n: number, state: TcpState, remote = '203.0.113.7', localPort = 443, over: Partial<InetSocket> = {}): InetSocket[] {
  const out: InetSocket[] = [];
  for (let i = 0; i < n; i++) {
    const p = nextPort++;
    out.push(
      inet(localPort, {
        id: `tcp ${remote}:${p} ${localPort} ${state}`,
        state,
        remoteAddress: remote,
        remotePort: p,
        inode: p,
        ...over,
      }),
    );
  }
  return out;
}

export function listener(port: number, program: string | null = 'sshd', proto: 'tcp' | 'udp' = 'tcp'): InetSocket {
  return inet(port, {
    id: `${proto} listen ${port} ${program ?? '?'}`,
    proto,
    state: proto === 'tcp' ? 'LISTEN' : 'CLOSE',
    stateCode: proto === 'tcp' ? 10 : 7,
    localAddress: '0.0.0.0',
    remoteAddress: '0.0.0.0',
    remotePort: 0,
    program,
    pid: program ? 100 : null,
  });
}

export function iface(name: string, errs: number, drops = 0): NetInterface {
  const zero = {
    rxBytes: 0, rxPackets: 0, rxErrs: errs, rxDrop: drops, rxFifo: 0, rxFrame: 0, rxCompressed: 0, rxMulticast: 0,
    txBytes: 0, txPackets: 0, txErrs: 0, txDrop: 0, txFifo: 0, txColls: 0, txCarrier: 0, txCompressed: 0,
  };
  return {
    name,
    mtu: 1500,
    flags: 'BMRU',
    flagsRaw: null,
    operstate: 'up',
    speedMbps: 1000,
    mac: null,
    addresses: [],
    counters: zero,
    rates: {
      rxBytesPerSec: 1000, rxPacketsPerSec: 10, rxErrsPerSec: 0, rxDropPerSec: 0, rxFifoPerSec: 0, rxFramePerSec: 0, rxCompressedPerSec: 0, rxMulticastPerSec: 0,
      txBytesPerSec: 500, txPacketsPerSec: 5, txErrsPerSec: 0, txDropPerSec: 0, txFifoPerSec: 0, txCollsPerSec: 0, txCarrierPerSec: 0, txCompressedPerSec: 0,
    },
  };
}

/** A snapshot at `T0 + sec * 1000`. */
export function at(sec: number, over: Partial<Snapshot> = {}): Snapshot {
  const s = snapshot(Math.round(sec * 10) + 1, over);
  s.time = T0 + Math.round(sec * 1000);
  return s;
}

/** Defaults with some rules overridden. */
export function cfg(rules: Partial<Record<AlertRuleName, Partial<AlertRuleConfig>>> = {}, services: AlertsConfig['services'] = []): AlertsConfig {
  const c = defaultAlertsConfig();
  for (const [name, over] of Object.entries(rules) as [AlertRuleName, Partial<AlertRuleConfig>][]) c.rules[name] = { ...c.rules[name], ...over };
  c.services = services;
  return c;
}
