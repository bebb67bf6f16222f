/** Small presentation helpers shared by the page and the agent's text output. */
import type { InetSocket, TcpState } from './schema.js';

/** What each TCP state means, for hover text (after the seed articles and RFC 793). */
export const TCP_STATE_HELP: Readonly<Record<TcpState, string>> = {
  LISTEN: 'Listening: waiting for connection requests from remote TCP ports.',
  SYN_SENT: 'Actively opening: our SYN was sent, waiting for the peer\'s SYN+ACK. Many of these: the peer or a firewall is not answering.',
  SYN_RECV: 'A SYN arrived and our SYN+ACK went out; waiting for the final ACK. Normally under 5; hundreds mean a SYN flood.',
  ESTABLISHED: 'An open connection: data can flow both ways.',
  FIN_WAIT1: 'We closed (sent FIN) and wait for the peer to acknowledge it.',
  FIN_WAIT2: 'Our FIN was acknowledged; waiting for the peer to close its side.',
  TIME_WAIT: 'We closed first; kept for 2×MSL so stray packets of the old connection die out. Thousands mean many short connections (see tcp_tw_reuse, tcp_fin_timeout).',
  CLOSE: 'Not in use (for UDP and raw sockets: unconnected).',
  CLOSE_WAIT: 'The peer closed; waiting for our application to close. Piling up means the application does not call close().',
  LAST_ACK: 'Both sides closed; our FIN was sent last and we wait for its ACK.',
  CLOSING: 'Both sides sent FIN at the same time; waiting for the ACK. Rare.',
  NEW_SYN_RECV: 'A connection request held as a light request socket (shown as SYN_RECV by netstat).',
  UNKNOWN: 'The kernel reported a state netscope does not know.',
};

/** `127.0.0.1:80`, `[::1]:80`, `*:*` style endpoint text as ss prints it; port 0 prints `*`. */
export function formatEndpoint(address: string, port: number): string {
  const host = address.includes(':') ? `[${address}]` : address;
  return `${host}:${port === 0 ? '*' : port}`;
}

/** netstat -o timer text: `keepalive (7170.12/0/0)`. */
export function formatTimer(s: InetSocket, now: number): string {
  const t = s.timer;
  const remainingSec = t.expiresAt === null ? 0 : Math.max(0, t.expiresAt - now) / 1000;
  return `${t.kind} (${remainingSec.toFixed(2)}/${t.retransmits}/${t.probes})`;
}

/** Human rate: 1.2 KB/s. */
export function formatBytes(n: number | null, suffix = ''): string {
  if (n === null || !Number.isFinite(n)) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let v = Math.abs(n);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const sign = n < 0 ? '-' : '';
  return `${sign}${v >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}${suffix}`;
}
