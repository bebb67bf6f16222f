/**
 * CSV and JSON export of the filtered rows. CSV follows RFC 4180: fields with quotes, commas or
 * line breaks are quoted and quotes doubled; lines end with CRLF.
 */
import { formatTimer } from '../format.js';
import type { Socket } from '../schema.js';

export interface CsvOptions {
  /**
   * Spreadsheet formula guard: a text field starting with = + - @ (a process can name itself
   * `=HYPERLINK(…)`) gets a leading apostrophe. On by default for downloads.
   */
  guardFormulas?: boolean;
}

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvField(value: string | number | null | undefined, opts: CsvOptions = {}): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  let text = value;
  if (opts.guardFormulas && FORMULA_START.test(text)) text = `'${text}`;
  if (/[",\r\n]/.test(text) || text !== text.trim()) return `"${text.replace(/"/g, '""')}"`;
  return text;
}

export function toCsv(header: readonly string[], rows: readonly (readonly (string | number | null | undefined)[])[], opts: CsvOptions = {}): string {
  const lines: string[] = [header.map((h) => csvField(h, opts)).join(',')];
  for (const row of rows) lines.push(row.map((v) => csvField(v, opts)).join(','));
  return lines.join('\r\n') + '\r\n';
}

export const SOCKET_CSV_HEADER = [
  'proto', 'recv_q', 'send_q', 'local_address', 'local_port', 'local_service', 'foreign_address', 'foreign_port',
  'foreign_service', 'state', 'pid', 'program', 'user', 'uid', 'inode', 'timer', 'unix_type', 'unix_path',
] as const;

export function socketCsvRow(s: Socket, now: number): (string | number | null)[] {
  if (s.proto === 'unix') {
    return ['unix', null, null, null, null, null, null, null, null, s.state, s.pid, s.program, null, null, s.inode, null, s.type, s.path];
  }
  return [
    s.proto, s.recvQ, s.sendQ, s.localAddress, s.localPort, s.localService ?? null, s.remoteAddress, s.remotePort,
    s.remoteService ?? null, s.state, s.pid, s.program, s.user, s.uid, s.inode, formatTimer(s, now), null, null,
  ];
}

export function socketsToCsv(rows: readonly Socket[], now: number, opts: CsvOptions = { guardFormulas: true }): string {
  return toCsv(SOCKET_CSV_HEADER, rows.map((s) => socketCsvRow(s, now)), opts);
}

export interface JsonExport {
  exportedAt: string;
  host: string;
  snapshotTime: string;
  seq: number;
  filter: Record<string, string>;
  count: number;
  sockets: readonly Socket[];
}

export function socketsToJson(rows: readonly Socket[], meta: { host: string; time: number; seq: number; filter: Record<string, string> }, exportedAt = new Date()): string {
  const body: JsonExport = {
    exportedAt: exportedAt.toISOString(),
    host: meta.host,
    snapshotTime: new Date(meta.time).toISOString(),
    seq: meta.seq,
    filter: meta.filter,
    count: rows.length,
    sockets: rows,
  };
  return JSON.stringify(body, null, 2);
}

/** File name like `netscope-web01-connections-20261122-0431.csv`. */
export function exportFileName(host: string, what: string, ext: string, at = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${at.getFullYear()}${p(at.getMonth() + 1)}${p(at.getDate())}-${p(at.getHours())}${p(at.getMinutes())}${p(at.getSeconds())}`;
  const safeHost = host.replace(/[^A-Za-z0-9._-]+/g, '_') || 'host';
  return `netscope-${safeHost}-${what}-${stamp}.${ext}`;
}
