/**
 * The netstat -anpeo columns, as text exactly as the table and the CSV show them.
 */
import { formatEndpoint, formatTimer } from '../format.js';
import type { Socket } from '../schema.js';

export type ColumnKey = 'proto' | 'recvQ' | 'sendQ' | 'local' | 'remote' | 'state' | 'program' | 'user' | 'inode' | 'timer';

export interface ColumnDef {
  key: ColumnKey;
  label: string;
  /** Right-align numbers. */
  numeric: boolean;
  /** Relative width in the table (fr units). */
  width: number;
  title: string;
}

export const COLUMNS: readonly ColumnDef[] = [
  { key: 'proto', label: 'Proto', numeric: false, width: 0.6, title: 'Protocol (tcp6 = IPv6 socket; ::ffff: addresses are IPv4 on a v6 socket)' },
  { key: 'recvQ', label: 'Recv-Q', numeric: true, width: 0.7, title: 'Bytes received, not yet read by the program (LISTEN: accept backlog)' },
  { key: 'sendQ', label: 'Send-Q', numeric: true, width: 0.7, title: 'Bytes sent, not yet acknowledged by the peer (LISTEN: max backlog)' },
  { key: 'local', label: 'Local Address', numeric: false, width: 2.2, title: 'Local address:port (unix: bound path)' },
  { key: 'remote', label: 'Foreign Address', numeric: false, width: 2.2, title: 'Remote address:port; * = any' },
  { key: 'state', label: 'State', numeric: false, width: 1.2, title: 'Socket state; hover a state for its meaning' },
  { key: 'program', label: 'PID/Program', numeric: false, width: 1.5, title: 'Owning process; - when it could not be seen' },
  { key: 'user', label: 'User', numeric: false, width: 0.8, title: 'Socket owner (netstat -e)' },
  { key: 'inode', label: 'Inode', numeric: true, width: 0.9, title: 'Socket inode' },
  { key: 'timer', label: 'Timer', numeric: false, width: 1.5, title: 'netstat -o: kind (seconds left/retransmits/probes)' },
];

export function pidProgramText(s: Socket): string {
  if (s.pid === null) return '-';
  return `${s.pid}/${s.program ?? '?'}`;
}

/** Cell text for one socket and column; `now` (epoch ms, snapshot time) for timers. */
export function cellText(s: Socket, key: ColumnKey, now: number): string {
  switch (key) {
    case 'proto':
      return s.proto;
    case 'recvQ':
      return s.proto === 'unix' ? '' : String(s.recvQ);
    case 'sendQ':
      return s.proto === 'unix' ? '' : String(s.sendQ);
    case 'local':
      return s.proto === 'unix' ? (s.path ?? '') : formatEndpoint(s.localAddress, s.localPort);
    case 'remote':
      return s.proto === 'unix' ? '' : formatEndpoint(s.remoteAddress, s.remotePort);
    case 'state':
      return s.state;
    case 'program':
      return pidProgramText(s);
    case 'user':
      return s.proto === 'unix' ? '' : (s.user ?? String(s.uid));
    case 'inode':
      return String(s.inode);
    case 'timer':
      return s.proto === 'unix' ? '' : formatTimer(s, now);
  }
}
