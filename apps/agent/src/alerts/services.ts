/**
 * Watched services: is something listening on each configured port/proto (and, when configured,
 * is it the expected program)? Pure: snapshot + previous statuses in, statuses out.
 *
 * tcp: a tcp/tcp6 socket in LISTEN on the port. udp: a udp/udp6 socket bound to the port and not
 * connected (remote port 0), i.e. what `ss -lun` lists.
 *
 * Program check: when the owner is not visible (agent not root, socket of another user) the
 * service counts as up with a note: "down" would be a false alarm on every non-root agent.
 */
import type { InetSocket, Snapshot, WatchedServiceConfig, WatchedServiceStatus } from '@netscope/shared';
import { formatEndpoint } from '@netscope/shared';

export function serviceId(s: Pick<WatchedServiceConfig, 'port' | 'proto'>): string {
  return `${s.port}/${s.proto}`;
}

function isListener(sock: InetSocket, svc: WatchedServiceConfig): boolean {
  if (sock.localPort !== svc.port) return false;
  if (svc.proto === 'tcp') return (sock.proto === 'tcp' || sock.proto === 'tcp6') && sock.state === 'LISTEN';
  return (sock.proto === 'udp' || sock.proto === 'udp6') && sock.remotePort === 0;
}

export function watchServices(
  snap: Pick<Snapshot, 'sockets' | 'time'>,
  services: readonly WatchedServiceConfig[],
  prev: ReadonlyMap<string, WatchedServiceStatus>,
  now: number,
): WatchedServiceStatus[] {
  if (services.length === 0) return [];
  const byPort = new Map<number, InetSocket[]>();
  const wanted = new Set(services.map((s) => s.port));
  for (const sock of snap.sockets) {
    if (sock.proto === 'unix' || !wanted.has(sock.localPort)) continue;
    const list = byPort.get(sock.localPort);
    if (list) list.push(sock);
    else byPort.set(sock.localPort, [sock]);
  }
  return services.map((svc) => {
    const id = serviceId(svc);
    const onPort = (byPort.get(svc.port) ?? []).filter((s) => isListener(s, svc));
    let matching = onPort;
    let note: string | null = null;
    if (svc.program !== null) {
      const exact = onPort.filter((s) => s.program === svc.program);
      const unknown = onPort.filter((s) => s.program === null);
      if (exact.length > 0) matching = exact;
      else if (unknown.length > 0) {
        matching = unknown;
        note = `listening, but the owner is not visible (not root), so ${svc.program} cannot be confirmed`;
      } else {
        matching = [];
        if (onPort.length > 0) {
          const others = [...new Set(onPort.map((s) => s.program ?? '?'))].join(', ');
          note = `${id} is listening, but by ${others}, not ${svc.program}`;
        }
      }
    }
    const up = matching.length > 0;
    if (!up && note === null) note = `nothing listens on ${id}`;
    const before = prev.get(id);
    const changed = before === undefined || before.up !== up;
    return {
      service: id,
      name: svc.name,
      port: svc.port,
      proto: svc.proto,
      program: svc.program,
      up,
      since: changed ? now : before.since,
      sinceAgentStart: before === undefined ? true : changed ? false : before.sinceAgentStart,
      listeners: matching.slice(0, 8).map((s) => ({
        address: formatEndpoint(s.localAddress, s.localPort),
        program: s.program,
        pid: s.pid,
      })),
      note,
    };
  });
}
