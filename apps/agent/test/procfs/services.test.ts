import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import fc from 'fast-check';
import { parseServices, readServices, serviceName, servicesMap, servicesProto } from '../../src/procfs/services.js';
import { LIVE, PROPERTY_RUNS, fixtureRoots, garbageText, nonEmptyLines, run } from './nethelpers.js';

describe('parseServices', () => {
  it('name port/proto, aliases and comments ignored, first name wins', () => {
    const p = parseServices('http\t\t80/tcp\t\twww\t\t# WorldWideWeb HTTP\nwww-alt 80/tcp\ndomain 53/udp\n# comment\n\n');
    expect(p.badLines).toBe(0);
    expect(p.records).toEqual([
      { name: 'http', port: 80, proto: 'tcp' },
      { name: 'www-alt', port: 80, proto: 'tcp' },
      { name: 'domain', port: 53, proto: 'udp' },
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
    expect(parseServices('ssh 22/tcp\r\n').records).toEqual([{ name: 'ssh', port: 22, proto: 'tcp' }]);
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
        expect(parseServices(`${name}\t${port}/${proto}\t\talias # c\n`).records).toEqual([{ name, port, proto }]);
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

describe('fixtures', () => {
  it('debian-live: the real /etc/services parses clean', async () => {
    const { data, status } = await readServices(fixtureRoots('debian-live'));
    expect(status).toMatchObject({ state: 'ok', badLines: 0 });
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
    const { data, status } = await readServices(fixtureRoots('nope'));
    expect(data.size).toBe(0);
    expect(status.state).toBe('missing');
  });

  it.runIf(existsSync('/etc/services'))('live: agrees with getent services for a few ports', async () => {
    const { data } = await readServices(LIVE);
    for (const [proto, port] of [['tcp', 22], ['tcp', 80], ['udp', 53], ['tcp', 443]] as const) {
      const out = run('getent', ['services', `${port}/${proto}`]);
      if (out === null) continue;
      expect(data.get(`${proto}/${port}`)).toBe(out.trim().split(/\s+/)[0]);
    }
  });
});
