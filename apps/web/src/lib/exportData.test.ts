import { describe, expect, it } from 'vitest';
import { csvField, exportFileName, socketsToCsv, socketsToJson, toCsv } from '@netscope/shared';
import { tcp, unix } from './fixtures.test-util';

describe('csvField', () => {
  it('quotes commas, quotes and line breaks, doubling quotes', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('line1\nline2')).toBe('"line1\nline2"');
    expect(csvField('cr\rlf')).toBe('"cr\rlf"');
    expect(csvField(' padded ')).toBe('" padded "');
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(csvField(42)).toBe('42');
    expect(csvField(Number.NaN)).toBe('');
  });
  it('guards spreadsheet formulas when asked', () => {
    expect(csvField('=HYPERLINK("x")', { guardFormulas: true })).toBe('"\'=HYPERLINK(""x"")"');
    expect(csvField('@abstract', { guardFormulas: true })).toBe("'@abstract");
    expect(csvField('=1+1')).toBe('=1+1');
    expect(csvField(-1, { guardFormulas: true })).toBe('-1');
  });
});

describe('toCsv', () => {
  it('CRLF lines, header first, parseable back', () => {
    const text = toCsv(['a', 'b'], [['x,y', 'z"'], [1, null]]);
    expect(text).toBe('a,b\r\n"x,y","z"""\r\n1,\r\n');
  });
});

describe('socketsToCsv', () => {
  it('writes inet and unix rows with every column', () => {
    const now = 1_700_000_000_000;
    const s = tcp({ localService: 'https', program: 'evil,"name"\nx', timer: { kind: 'keepalive', code: 2, expiresAt: now + 7170120, retransmits: 0, probes: 0 } });
    const u = unix({ path: '@/tmp/.X11-unix/X0', abstract: true });
    const lines = socketsToCsv([s, u], now).split('\r\n');
    expect(lines[0]).toBe(
      'proto,recv_q,send_q,local_address,local_port,local_service,foreign_address,foreign_port,foreign_service,state,pid,program,user,uid,inode,timer,unix_type,unix_path',
    );
    expect(lines[1]).toContain('"evil,""name""\nx"');
    expect(lines[1]).toContain('keepalive (7170.12/0/0)');
    expect(lines[1]!.startsWith('tcp,0,0,10.0.0.1,443,https,203.0.113.7,51000,,ESTABLISHED,100,')).toBe(true);
    expect(lines[2]).toBe(`unix,,,,,,,,,LISTENING,1,systemd,,,${u.inode},,STREAM,'@/tmp/.X11-unix/X0`);
  });
});

describe('socketsToJson', () => {
  it('is parseable JSON with metadata and the rows', () => {
    const s = tcp();
    const text = socketsToJson([s], { host: 'web01', time: 0, seq: 9, filter: { port: '443' } }, new Date(0));
    const parsed = JSON.parse(text) as { count: number; sockets: unknown[]; filter: unknown; seq: number };
    expect(parsed.count).toBe(1);
    expect(parsed.sockets[0]).toEqual(s);
    expect(parsed.filter).toEqual({ port: '443' });
    expect(parsed.seq).toBe(9);
  });
});

describe('exportFileName', () => {
  it('is safe for any host name', () => {
    expect(exportFileName('web 01/x', 'connections', 'csv', new Date(2026, 0, 2, 3, 4, 5))).toBe('netscope-web_01_x-connections-20260102-030405.csv');
  });
});
