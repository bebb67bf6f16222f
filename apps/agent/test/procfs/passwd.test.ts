import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parsePasswd, passwdMap, readPasswd } from '../../src/procfs/passwd.js';
import { LIVE, PROPERTY_RUNS, fixtureRoots, garbageText, nonEmptyLines, run } from './nethelpers.js';

describe('parsePasswd', () => {
  it('uid → name, first name wins', () => {
    const p = parsePasswd('root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/root:/bin/sh\nalice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n');
    expect(p.badLines).toBe(0);
    const m = passwdMap(p.records);
    expect([...m]).toEqual([
      [0, 'root'],
      [1000, 'alice'],
    ]);
  });

  it.each([
    ['no colons', 'broken line', /1 fields/],
    ['non-numeric uid', 'carol:x:abc:1::/:/bin/sh', /bad uid "abc"/],
    ['negative uid', 'carol:x:-1:1::/:/bin/sh', /bad uid "-1"/],
    ['uid past 32 bits', 'carol:x:4294967296:1::/:/bin/sh', /bad uid/],
    ['empty name', ':x:5:5::/:/bin/sh', /bad name ""/],
  ])('%s is skipped and counted', (_n, line, reason) => {
    const p = parsePasswd(`root:x:0:0:root:/root:/bin/bash\n${line}\n`);
    expect(p.records).toHaveLength(1);
    expect(p.badLines).toBe(1);
    expect(p.sample).toMatch(reason);
  });

  it('NIS compat lines and comments are skipped silently; CRLF; empty', () => {
    expect(parsePasswd('+@netgroup::::::\n-bob\n# c\nroot:x:0:0::/:/bin/sh\r\n')).toEqual({ records: [{ name: 'root', uid: 0 }], badLines: 0, sample: null, message: null });
    expect(parsePasswd('').records).toEqual([]);
  });

  it('a short line with a uid is enough (name:x:uid)', () => {
    expect(parsePasswd('svc:x:42\n').records).toEqual([{ name: 'svc', uid: 42 }]);
  });

  it('never throws on garbage; generated lines round-trip', () => {
    fc.assert(
      fc.property(garbageText, (t) => {
        const p = parsePasswd(t);
        expect(p.records.length + p.badLines).toBeLessThanOrEqual(nonEmptyLines(t));
      }),
      PROPERTY_RUNS,
    );
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z_][a-z0-9_-]{0,31}$/), fc.nat({ max: 0xfffffffe }), (name, uid) => {
        expect(parsePasswd(`${name}:x:${uid}:${uid}:gecos, with commas:/home/${name}:/bin/sh\n`).records).toEqual([{ name, uid }]);
      }),
      PROPERTY_RUNS,
    );
  });
});

describe('fixtures', () => {
  it('debian-live: the real /etc/passwd', async () => {
    const { data, status } = await readPasswd(fixtureRoots('debian-live'));
    expect(status).toMatchObject({ state: 'ok', badLines: 0 });
    expect(data.get(0)).toBe('root');
    expect(data.get(65534)).toBe('nobody');
  });

  it('crafted: duplicate uid 0, NIS lines, two broken lines', async () => {
    const { data, status } = await readPasswd(fixtureRoots('crafted'));
    expect(status).toMatchObject({ state: 'ok', badLines: 2 });
    expect(data.get(0)).toBe('root');
    expect(data.get(108)).toBe('postgres');
    expect(data.size).toBe(6);
  });

  it('live: agrees with `getent passwd` for the uids in /etc/passwd', async () => {
    const { data, status } = await readPasswd(LIVE);
    expect(status.state).toBe('ok');
    for (const [uid, name] of [...data].slice(0, 10)) {
      const out = run('getent', ['passwd', String(uid)]);
      if (out !== null) expect(out.split(':')[0]).toBe(name);
    }
  });
});
