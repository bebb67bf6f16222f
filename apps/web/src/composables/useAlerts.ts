/**
 * Alerts as the page sees them: the active ones ride in every snapshot (`snapshot.alerts`); the
 * thresholds come from GET /api/config and the raised/cleared log from GET /api/alerts, both
 * reloaded after a reconnect (the agent may have restarted with another config), and the log also
 * whenever the set of active alerts changes.
 */
import { computed, watch, type ComputedRef } from 'vue';
import type { Alert, AlertsResponse, EffectiveConfigResponse, WatchedServiceStatus } from '@netscope/shared';
import { useStream } from './useStream';
import { useAgentFetch, type AgentResource } from './useAgentFetch';
import { sortAlerts } from '../lib/wall';

export function useAgentConfig(): AgentResource<EffectiveConfigResponse> {
  return useAgentFetch<EffectiveConfigResponse>(() => '/api/config');
}

/** Active alerts from the stream, worst first. */
export function useActiveAlerts(): ComputedRef<Alert[]> {
  const stream = useStream();
  return computed(() => {
    void stream.version.value;
    return sortAlerts(stream.snapshot.value?.alerts ?? []);
  });
}

/** Watched services from the stream (empty when none are configured). */
export function useServices(): ComputedRef<WatchedServiceStatus[]> {
  const stream = useStream();
  return computed(() => {
    void stream.version.value;
    return stream.snapshot.value?.services ?? [];
  });
}

export function useAlertLog(limit = 200): AgentResource<AlertsResponse> {
  const stream = useStream();
  const res = useAgentFetch<AlertsResponse>(() => `/api/alerts?limit=${limit}`);
  const ids = computed(() => {
    void stream.version.value;
    return (stream.snapshot.value?.alerts ?? []).map((a) => a.id).sort().join(' ');
  });
  watch(ids, (now, before) => {
    if (now !== before) res.refresh();
  });
  return res;
}
