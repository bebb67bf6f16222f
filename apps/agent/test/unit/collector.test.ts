import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Collector } from '../../src/collect/collector.js';

const HEADER =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const line = (sl: number, lport: string, inode: number, st = '01') =>
  `   ${sl}: 0100007F:${lport} 0100007F:1F90 ${st} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 20 4 30 10 -1\n`;

describe('Collector on a fixture tree', () => {
  const root = mkdtempSync(join(tmpdir(), 'netscope-collector-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'proc', 'net'), { recursive: true });
  const collector = () =>
    new Collector({
      roots: { proc: join(root, 'proc'), sys: join(root, 'sys'), etc: join(root, 'etc') },
      intervalMs: 1000,
      owners: false,
      live: false,
    });

  it('drops a socket listed twice (table read while it changed) and says so', async () => {
    writeFileSync(join(root, 'proc', 'net', 'tcp'), HEADER + line(0, 'A000', 101) + line(1, 'A001', 102) + line(2, 'A000', 101));
    const snap = await collector().collect();
    const tcp = snap.sockets.filter((s) => s.proto === 'tcp');
    expect(tcp.map((s) => s.inode)).toEqual([101, 102]);
    expect(new Set(snap.sockets.map((s) => s.id)).size).toBe(snap.sockets.length);
    expect(snap.sources.tcp).toMatchObject({ state: 'ok', message: expect.stringMatching(/1 duplicate line\(s\) dropped/) });
  });

  it('serves a partial snapshot when sources are missing, naming each', async () => {
    const snap = await collector().collect();
    expect(snap.sources.tcp?.state).toBe('ok');
    expect(snap.sources.tcp6?.state).toBe('missing');
    expect(snap.sources.route?.state).toBe('missing');
    expect(snap.sources.dev?.state).toBe('missing');
    expect(snap.routes).toEqual([]);
    expect(snap.interfaces).toEqual([]);
    expect(snap.ownership.status).toBe('disabled');
  });

  it('numbers ticks and computes rates only from the second tick', async () => {
    writeFileSync(join(root, 'proc', 'net', 'snmp'), 'Tcp: InSegs CurrEstab\nTcp: 100 5\n');
    const c = collector();
    const first = await c.collect();
    expect(first.seq).toBe(1);
    expect(first.stats.rates.Tcp).toEqual({ InSegs: null, CurrEstab: null });
    writeFileSync(join(root, 'proc', 'net', 'snmp'), 'Tcp: InSegs CurrEstab\nTcp: 300 6\n');
    await new Promise((r) => setTimeout(r, 50));
    const second = await c.collect();
    expect(second.seq).toBe(2);
    expect(second.stats.rates.Tcp!.InSegs).toBeGreaterThan(0);
    expect(second.stats.rates.Tcp!.CurrEstab).toBeNull(); // a gauge has no rate
  });
});
