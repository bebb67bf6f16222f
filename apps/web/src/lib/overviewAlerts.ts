/**
 * The alert strip on the overview: the agent's alert engine when the snapshot carries `alerts`
 * (its thresholds and raise/clear hysteresis are the ones that count), otherwise the seed
 * articles' thresholds computed in the page (thresholdAlerts).
 */
import type { Alert as AgentAlert } from '@netscope/shared';
import type { Alert as ClientAlert } from './aggregate';

export interface StripAlert {
  key: string;
  level: 'info' | 'warn' | 'crit';
  text: string;
  /** In-app path. */
  to: string;
  title: string;
  since: number | null;
}

/** Only same-app paths: the link arrives over the wire and must not lead off-site. */
export function safeAppLink(link: string, fallback = '/connections'): string {
  return /^\/(?![/\\])/.test(link) ? link : fallback;
}

const RANK = { critical: 0, warning: 1, info: 2 } as const;

export function stripAlerts(agent: readonly AgentAlert[] | undefined, client: readonly ClientAlert[]): StripAlert[] {
  if (agent === undefined) return client.map((a) => ({ key: a.text, level: a.level, text: a.text, to: a.to, title: '', since: null }));
  return agent
    .filter((a) => a.clearedAt === null)
    .slice()
    .sort((a, b) => RANK[a.severity] - RANK[b.severity] || a.raisedAt - b.raisedAt)
    .map((a) => ({
      key: a.id,
      level: a.severity === 'critical' ? 'crit' : a.severity === 'warning' ? 'warn' : 'info',
      text: a.title,
      to: safeAppLink(a.link),
      title: a.meaning,
      since: a.raisedAt,
    }));
}
