import { describe, expect, it } from 'vitest';
import { addressMatcher, compileFilter, defaultFilter, filterFlags, filterFromQuery, filterSockets, filterToQuery, isListening, parsePortSpec, type Socket, type ConnectionFilter } from '@netscope/shared';
import { snapshot, tcp, unix } from './fixtures.test-util';

const snap = snapshot();
const ctx = { processes: snap.processes };

const sockets: Socket[] = [
  tcp({ id: 'listen-443', state: 'LISTEN', stateCode: 10, localAddress: '0.0.0.0', remoteAddress: '0.0.0.0', remotePort: 0, localService: 'https' }),
  tcp({ id: 'est-443', localService: 'https' }),
  tcp({ id: 'tw-80', state: 'TIME_WAIT', stateCode: 6, localPort: 80, localService: 'http', remoteAddress: '192.168.1.20', pid: null, program: null, inode: 0 }),
  tcp({ id: 'pg', pid: 200, program: 'postgres', localAddress: '127.0.0.1', localPort: 5432, remoteAddress: '127.0.0.1', remotePort: 40000, user: 'postgres' }),
  tcp({ id: 'v6', proto: 'tcp6', family: 6, localAddress: '2001:db8::1', localPort: 22, remoteAddress: '2001:db8::99', remotePort: 60000, pid: 300, program: 'sshd' }),
  tcp({ id: 'synrecv', state: 'NEW_SYN_RECV', stateCode: 12, remoteAddress: '198.51.100.4' }),
  tcp({ id: 'udp-53', proto: 'udp', state: 'CLOSE', stateCode: 7, localAddress: '127.0.0.53', localPort: 53, remoteAddress: '0.0.0.0', remotePort: 0, pid: 400, program: 'systemd-resolve' }),
  tcp({ id: 'udp-conn', proto: 'udp', state: 'ESTABLISHED', localPort: 41000, remoteAddress: '8.8.8.8', remotePort: 53, remoteService: 'domain' }),
  tcp({ id: 'raw', proto: 'raw', state: 'CLOSE', stateCode: 7, localPort: 1, remoteAddress: '0.0.0.0', remotePort: 0 }),
  unix({ id: 'unix-listen' }),
  unix({ id: 'unix-conn', acceptCon: false, state: 'CONNECTED', stateCode: 3, path: null }),
];

function run(patch: Partial<ConnectionFilter>): string[] {
  const f = { ...defaultFilter(), ...patch };
  return filterSockets(sockets, compileFilter(f, ctx).test).map((s) => s.id);
}

describe('isListening', () => {
  it('follows netstat -l: TCP LISTEN, unconnected UDP/raw, unix ACC', () => {
    const by = Object.fromEntries(sockets.map((s) => [s.id, isListening(s)]));
    expect(by).toMatchObject({ 'listen-443': true, 'est-443': false, 'udp-53': true, 'udp-conn': false, raw: true, 'unix-listen': true, 'unix-conn': false });
  });
});

describe('compileFilter', () => {
  it('default is netstat -tuwa: every inet socket, no unix', () => {
    expect(run({})).toEqual(sockets.filter((s) => s.proto !== 'unix').map((s) => s.id));
  });

  it('protocol flags -t -u -w -x', () => {
    expect(run({ protos: ['t'] })).toEqual(['listen-443', 'est-443', 'tw-80', 'pg', 'v6', 'synrecv']);
    expect(run({ protos: ['u'] })).toEqual(['udp-53', 'udp-conn']);
    expect(run({ protos: ['w'] })).toEqual(['raw']);
    expect(run({ protos: ['x'] })).toEqual(['unix-listen', 'unix-conn']);
    expect(run({ protos: [] })).toEqual([]);
  });

  it('listening / connected / all', () => {
    expect(run({ show: 'listening' })).toEqual(['listen-443', 'udp-53', 'raw']);
    expect(run({ show: 'connected', protos: ['u'] })).toEqual(['udp-conn']);
    expect(run({ show: 'listening', protos: ['x'] })).toEqual(['unix-listen']);
  });

  it('-4 / -6 and unix never matches a family', () => {
    expect(run({ family: '6', protos: ['t', 'x'] })).toEqual(['v6']);
    expect(run({ family: '4', protos: ['t'] })).not.toContain('v6');
  });

  it('state multi-select; SYN_RECV also matches NEW_SYN_RECV', () => {
    expect(run({ states: ['TIME_WAIT', 'LISTEN'] })).toEqual(['listen-443', 'tw-80']);
    expect(run({ states: ['SYN_RECV'] })).toEqual(['synrecv']);
    expect(run({ states: ['CONNECTED'], protos: ['x'] })).toEqual(['unix-conn']);
  });

  it('port: number on either side, list, range, service name', () => {
    expect(run({ port: '443' })).toEqual(['listen-443', 'est-443', 'synrecv']);
    expect(run({ port: '53' })).toEqual(['udp-53', 'udp-conn']);
    expect(run({ port: '80, 22' })).toEqual(['tw-80', 'v6']);
    expect(run({ port: '5000-6000' })).toEqual(['pg']);
    expect(run({ port: 'https' })).toEqual(['listen-443', 'est-443']);
    expect(run({ port: 'domain' })).toEqual(['udp-conn']);
    expect(run({ port: '443', protos: ['t', 'x'] })).not.toContain('unix-listen');
  });

  it('with /etc/services: a name or alias matches its ports, whatever name the socket shows', () => {
    const servicePorts = new Map([['https', [443]], ['http', [80]], ['www', [80]], ['domain', [53]], ['two', [22, 5432]]]);
    const by = (port: string) => filterSockets(sockets, compileFilter({ ...defaultFilter(), port }, { ...ctx, servicePorts }).test).map((s) => s.id);
    // synrecv is on 443 without a service name; udp-53 on 53 without one: both match now.
    expect(by('https')).toEqual(['listen-443', 'est-443', 'synrecv']);
    expect(by('WWW')).toEqual(['tw-80']);
    expect(by('domain')).toEqual(['udp-53', 'udp-conn']);
    expect(by('two, 80')).toEqual(['tw-80', 'pg', 'v6']);
  });

  it('with /etc/services: a name not in it is reported, and the port filter is not applied', () => {
    const servicePorts = new Map([['https', [443]]]);
    const unknown = compileFilter({ ...defaultFilter(), port: '99999-abc' }, { ...ctx, servicePorts });
    expect(unknown.problems).toEqual(['port “99999-abc” is not a port, range or service name (no such name in /etc/services)']);
    expect(filterSockets(sockets, unknown.test)).toHaveLength(sockets.filter((s) => s.proto !== 'unix').length);
    // A known part still filters; the unknown one is reported beside it.
    const mixed = compileFilter({ ...defaultFilter(), port: 'nosuch, https' }, { ...ctx, servicePorts });
    expect(mixed.problems).toEqual(['port “nosuch” is not a port, range or service name (no such name in /etc/services)']);
    expect(filterSockets(sockets, mixed.test).map((s) => s.id)).toEqual(['listen-443', 'est-443', 'synrecv']);
    // Without the file nothing can be judged: names match the sockets' service names, as before.
    expect(compileFilter({ ...defaultFilter(), port: '99999-abc' }, { ...ctx, servicePorts: null }).problems).toEqual([]);
  });

  it('reports a state that no socket can be in instead of silently matching nothing', () => {
    const f = { ...defaultFilter(), states: ['TIME_WAIT', 'NOPE'] };
    const compiled = compileFilter(f, ctx);
    expect(compiled.problems).toHaveLength(1);
    expect(compiled.problems[0]).toMatch(/^state “NOPE” is not a socket state \(TCP: ESTABLISHED, .*; unix: FREE, LISTENING, .*\)$/);
    expect(filterSockets(sockets, compiled.test).map((s) => s.id)).toEqual(['tw-80']);
    expect(compileFilter({ ...defaultFilter(), states: ['LISTEN', 'SYN_RECV', 'CONNECTED'] }, ctx).problems).toEqual([]);
  });

  it('reports a bad port part instead of silently matching nothing', () => {
    const f = { ...defaultFilter(), port: '99999,https' };
    expect(compileFilter(f, ctx).problems).toEqual(['port “99999” is not a port, range or service name']);
  });

  it('address: CIDR, bare address, IPv6 CIDR, prefix text, either side', () => {
    expect(run({ addr: '192.168.0.0/16' })).toEqual(['tw-80']);
    expect(run({ addr: '127.0.0.0/8' })).toEqual(['pg', 'udp-53']);
    expect(run({ addr: '8.8.8.8' })).toEqual(['udp-conn']);
    expect(run({ addr: '2001:db8::/32' })).toEqual(['v6']);
    expect(run({ addr: '[2001:db8::99]' })).toEqual(['v6']);
    expect(run({ addr: '198.51.' })).toEqual(['synrecv']);
  });

  it('address also searches unix paths; peer is remote side only', () => {
    expect(run({ addr: 'systemd', protos: ['x'] })).toEqual(['unix-listen']);
    expect(run({ peer: '127.0.0.1' })).toEqual(['pg']);
    expect(run({ peer: '10.0.0.1' })).toEqual([]);
    expect(run({ addr: '10.0.0.1' })).toContain('est-443');
  });

  it('process search: pid, program, user, command line', () => {
    expect(run({ proc: '200' })).toEqual(['pg']);
    expect(run({ proc: 'SSHD' })).toEqual(['v6']);
    expect(run({ proc: 'www-data' })).toEqual(expect.arrayContaining(['est-443', 'listen-443']));
    expect(run({ proc: '/var/lib/pg' })).toEqual(['pg']);
    expect(run({ proc: 'nothing-like-this' })).toEqual([]);
  });

  it('process search matches sharers (otherPids)', () => {
    const shared = tcp({ id: 'shared', pid: 1, program: 'systemd', otherPids: [200] });
    const t = compileFilter({ ...defaultFilter(), proc: 'postgres' }, ctx).test;
    expect(t(shared)).toBe(true);
  });

  it('combines every filter with AND', () => {
    expect(run({ port: '443', states: ['ESTABLISHED'], addr: '203.0.113.0/24', proc: 'nginx' })).toEqual(['est-443']);
  });
});

describe('addressMatcher', () => {
  it('memoises: same answer for repeated addresses', () => {
    const m = addressMatcher('10.0.0.0/8')!;
    expect(m('10.1.2.3')).toBe(true);
    expect(m('10.1.2.3')).toBe(true);
    expect(m('11.0.0.1')).toBe(false);
    expect(m('::ffff:10.0.0.1')).toBe(true);
  });
  it('empty text is no filter', () => {
    expect(addressMatcher('  ')).toBeNull();
  });
});

describe('parsePortSpec', () => {
  it('parses numbers, ranges (either order), names', () => {
    expect(parsePortSpec('80, 8100-8000 ,HTTPS')).toEqual({ spec: { ranges: [[80, 80], [8000, 8100]], names: ['https'] }, invalid: [] });
    expect(parsePortSpec('')).toEqual({ spec: null, invalid: [] });
    expect(parsePortSpec('70000,a b')).toEqual({ spec: null, invalid: ['70000', 'a b'] });
  });
});

describe('URL query codec', () => {
  it('reads the issue example', () => {
    const f = filterFromQuery({ port: '443', state: 'ESTABLISHED' });
    expect(f).toEqual({ ...defaultFilter(), port: '443', states: ['ESTABLISHED'] });
  });

  it('round-trips every field', () => {
    const f: ConnectionFilter = {
      protos: ['t', 'x'],
      show: 'listening',
      family: '6',
      states: ['LISTEN', 'TIME_WAIT'],
      port: '80,443',
      addr: '10.0.0.0/8',
      peer: '2001:db8::1',
      proc: 'nginx worker',
    };
    const q = filterToQuery(f);
    expect(filterFromQuery(q)).toEqual(f);
    // and through a real URL
    const url = new URL(`http://x/connections?${new URLSearchParams(q).toString()}`);
    expect(filterFromQuery(Object.fromEntries(url.searchParams))).toEqual(f);
  });

  it('the default filter is the empty query', () => {
    expect(filterToQuery(defaultFilter())).toEqual({});
    expect(filterFromQuery({})).toEqual(defaultFilter());
  });

  it('an explicit empty proto list survives the round trip', () => {
    const f = { ...defaultFilter(), protos: [] };
    expect(filterToQuery(f)).toEqual({ proto: '' });
    expect(filterFromQuery({ proto: '' }).protos).toEqual([]);
  });

  it('ignores junk and accepts repeated keys', () => {
    const f = filterFromQuery({ proto: 'q,t,t', show: 'bogus', family: '5', state: ['established', 'LISTEN'], port: null });
    expect(f.protos).toEqual(['t']);
    expect(f.show).toBe('all');
    expect(f.family).toBe('any');
    expect(f.states).toEqual(['ESTABLISHED', 'LISTEN']);
    expect(f.port).toBe('');
  });

  it('describes itself as netstat flags', () => {
    expect(filterFlags(defaultFilter())).toBe('-tuwanpeo');
    expect(filterFlags({ ...defaultFilter(), protos: ['t'], show: 'listening', family: '4' })).toBe('-tlnpeo -4');
  });
});

describe('performance', () => {
  it('filters 200k sockets well under 100 ms', () => {
    const many: Socket[] = [];
    for (let i = 0; i < 200_000; i++) {
      many.push(
        tcp({
          id: `s${i}`,
          localPort: i % 7 === 0 ? 443 : 10_000 + (i % 5000),
          remoteAddress: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
          state: i % 3 === 0 ? 'TIME_WAIT' : 'ESTABLISHED',
          pid: i % 50,
          program: `p${i % 50}`,
        }),
      );
    }
    const f = { ...defaultFilter(), port: '443', states: ['ESTABLISHED'], addr: '10.0.0.0/9', proc: 'p1' };
    // CPU time, best of 3 (the first warms the JIT): wall time on a shared CI box measures the box.
    let best = Infinity;
    let out: Socket[] = [];
    for (let k = 0; k < 3; k++) {
      const c0 = process.cpuUsage();
      out = filterSockets(many, compileFilter(f, ctx).test);
      const c = process.cpuUsage(c0);
      best = Math.min(best, (c.user + c.system) / 1000);
    }
    expect(out.length).toBeGreaterThan(0);
    expect(best).toBeLessThan(100);
  });
});
