/** uid → user and port → service name maps, re-read now and then (they rarely change). */
import type { SourceName, SourceStatus } from '@netscope/shared';
import type { Roots } from '../procfs/source.js';
import { readServices } from '../procfs/services.js';
import { readPasswd } from '../procfs/passwd.js';
import type { NameMaps } from './sockets.js';

export async function readNameMaps(
  roots: Roots,
): Promise<{
  maps: NameMaps;
  /** Service name or alias → ports, for port filters; null without /etc/services. */
  servicePorts: ReadonlyMap<string, readonly number[]> | null;
  statuses: Partial<Record<SourceName, SourceStatus>>;
}> {
  const [services, passwd] = await Promise.all([readServices(roots), readPasswd(roots)]);
  return {
    maps: { services: services.data, users: passwd.data },
    servicePorts: services.ports,
    statuses: { services: services.status, passwd: passwd.status },
  };
}
