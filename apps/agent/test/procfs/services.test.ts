import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import fc from 'fast-check';
import { parseServices, readServices, serviceName, servicePorts, servicesMap, servicesProto } from '../../src/procfs/services.js';
import { LIVE, PROPERTY_RUNS, fixtureRoots, garbageText, nonEmptyLines, run } from './nethelpers.js';

describe('parseServices', () => {
  it('name port/proto aliases, comments ignored, first name wins', () => {
    const p = parseServices('http\t\t80/tcp\t\twww\t\t# WorldWideWeb HTTP\nwww-alt 80/tcp\ndomain 53/udp\n# comment\n\n');
    expect(p.badLines).toBe(0);
    expect(p.records).toEqual([
      { name: 'http', port: 80, proto: 'tcp', aliases: ['www'] },
      { name: 'www-alt', port: 80, proto: 'tcp', aliases: [] },
      { name: 'domain', port: 53, proto: 'udp', aliases: [] },
    ]);
    const map = servicesMap(p.records);
    expect(map.get('tcp/80')).toBe('http');
    expect(map.get('udp/53')).toBe('domain');
    expect(map.size).toBe(2);
  });

  it.each([
    ['no port', 'lonely', /no port\/protocol/],
    ['no protocol', 'web 8080', /bad port\/protocol "8080"/],
    ['empty protocol', 'web 8080/', /bad port\/protocol/],
    ['non-numeric port', 'web http/tcp', /bad port "http"/],
    ['port over 65535', 'web 70000/tcp', /bad port "70000"/],
  ])('%s is skipped and counted', (_n, line, reason) => {
    const p = parseServices(`ssh 22/tcp\n${line}\n`);
    expect(p.records).toHaveLength(1);
    expect(p.badLines).toBe(1);
    expect(p.sample).toMatch(reason);
  });

  it('CRLF, empty, comment-only', () => {
    expect(parseServices('ssh 22/tcp\r\n').records).toEqual([{ name: 'ssh', port: 22, proto: 'tcp', aliases: [] }]);
    expect(parseServices('')).toEqual({ records: [], badLines: 0, sample: null, message: null });
    expect(parseServices('# nothing\n   # indented\n').records).toEqual([]);
  });

  it('never throws on garbage; generated lines round-trip', () => {
    fc.assert(
      fc.property(garbageText, (t) => {
        const p = parseServices(t);
        expect(p.records.length + p.badLines).toBeLessThanOrEqual(nonEmptyLines(t));
      }),
      PROPERTY_RUNS,
    );
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z][a-z0-9-]{0,14}$/), fc.integer({ min: 0, max: 65535 }), fc.constantFrom('tcp', 'udp', 'sctp'), (name, port, proto) => {
        expect(parseServices(`${name}\t${port}/${proto}\t\talias # c\n`).records).toEqual([{ name, port, proto, aliases: ['alias'] }]);
      }),
      PROPERTY_RUNS,
    );
  });
});

describe('serviceName', () => {
  const map = servicesMap(parseServices('http 80/tcp\ndomain 53/udp\ndomain 53/tcp\nntp 123/udp\n').records);
  it.each([
    ['tcp', 80, 'http'],
    ['tcp6', 80, 'http'],
    ['udp6', 53, 'domain'],
    ['udplite', 123, 'ntp'],
    ['udplite6', 123, 'ntp'],
    ['udp', 80, undefined],
    ['raw', 80, undefined],
    ['unix', 80, undefined],
    ['tcp', 0, undefined],
  ])('%s/%i → %s', (proto, port, name) => expect(serviceName(map, proto, port)).toBe(name));

  it('servicesProto', () => {
    expect(servicesProto('raw6')).toBeNull();
  });
});

describe('servicePorts (getservbyname)', () => {
  const ports = servicePorts(
    parseServices('http 80/tcp www # web\ndomain 53/udp\ndomain 53/tcp\nWeird 8080/tcp Alt-Name\ntwo 1000/tcp\ntwo 2000/udp\nm3ua 2905/sctp\n').records,
  );
  it('name and aliases, lower case, TCP and UDP ports once each, ascending', () => {
    expect(ports.get('http')).toEqual([80]);
    expect(ports.get('www')).toEqual([80]);
    expect(ports.get('domain')).toEqual([53]);
    expect(ports.get('weird')).toEqual([8080]);
    expect(ports.get('alt-name')).toEqual([8080]);
    expect(ports.get('two')).toEqual([1000, 2000]);
  });
  it('leaves out protocols no socket looks up (sctp)', () => {
    expect(ports.has('m3ua')).toBe(false);
  });
});

describe('fixtures', () => {
  it('debian-live: the real /etc/services parses clean', async () => {
    const { data, ports, status } = await readServices(fixtureRoots('debian-live'));
    expect(status).toMatchObject({ state: 'ok', badLines: 0 });
    expect(ports?.get('https')).toEqual([443]);
    expect(ports?.get('www')).toEqual([80]);
    expect(data.get('tcp/22')).toBe('ssh');
    expect(data.get('tcp/443')).toBe('https');
    expect(data.get('udp/53')).toBe('domain');
  });

  it('crafted: aliases ignored, duplicates, broken lines counted', async () => {
    const { data, status } = await readServices(fixtureRoots('crafted'));
    expect(status).toMatchObject({ state: 'ok', badLines: 2 });
    expect(status.sample).toMatch(/broken-no-proto/);
    expect(data.get('tcp/80')).toBe('http');
    expect(data.get('udp/443')).toBe('https');
    expect(data.get('sctp/2905')).toBe('sctp-svc');
    expect(data.get('tcp/5432')).toBe('postgresql');
  });

  it('no /etc/services: missing, empty map (the page shows numbers)', async () => {
    const { data, ports, status } = await readServices(fixtureRoots('nope'));
    expect(data.size).toBe(0);
    expect(ports).toBeNull();
    expect(status.state).toBe('missing');
  });

  it.runIf(existsSync('/etc/services'))('live: agrees with getent services for a few ports and names', async () => {
    const { data, ports } = await readServices(LIVE);
    for (const [name, proto] of [['ssh', 'tcp'], ['www', 'tcp'], ['domain', 'udp'], ['https', 'tcp']] as const) {
      const out = run('getent', ['services', name, proto]);
      if (out === null) continue;
      expect(ports?.get(name)).toContain(Number(out.trim().split(/\s+/)[1]!.split('/')[0]));
    }
    for (const [proto, port] of [['tcp', 22], ['tcp', 80], ['udp', 53], ['tcp', 443]] as const) {
      const out = run('getent', ['services', `${port}/${proto}`]);
      if (out === null) continue;
      expect(data.get(`${proto}/${port}`)).toBe(out.trim().split(/\s+/)[0]);
    }
  });
});
