/**
 * The last hour for the wall's charts: GET /api/history on mount and after every reconnect (which
 * also fills the gap the disconnection left), then one point per live tick from the stream. The
 * series are plain arrays (SeriesSet, markRaw) read by Chart.js; `revision` bumps when they change.
 */
import { markRaw, ref, watch, type Ref } from 'vue';
import type { HistoryResponse } from '@netscope/shared';
import { useStream } from './useStream';
import { useAgentFetch } from './useAgentFetch';
import { SeriesSet, statesOfPoint, WALL_STATES, type WallState } from '../lib/wallSeries';
import { trafficOf } from '../lib/wall';

export type TrafficKey = 'rx' | 'tx';

export interface WallHistory {
  states: SeriesSet<WallState>;
  traffic: SeriesSet<TrafficKey>;
  revision: Ref<number>;
  error: Ref<string | null>;
  /** Resolution of the loaded history, seconds (1 for the last hour). */
  resolutionSec: Ref<number | null>;
}

export function useHistory(rangeSec = 3600): WallHistory {
  const stream = useStream();
  const states = markRaw(new SeriesSet<WallState>(WALL_STATES, rangeSec * 1000));
  const traffic = markRaw(new SeriesSet<TrafficKey>(['rx', 'tx'], rangeSec * 1000));
  const revision = ref(0);
  const resolutionSec = ref<number | null>(null);

  const res = useAgentFetch<HistoryResponse>(
    () => `/api/history?range=${rangeSec}&fields=states,ifaces`,
    (h) => {
      resolutionSec.value = h.resolutionSec;
      states.load(h.points, statesOfPoint);
      traffic.load(h.points, (p) =>
        trafficOf(Object.entries(p.ifaces ?? {}).map(([name, r]) => ({ name, rx: r.rxBytesPerSec, tx: r.txBytesPerSec }))),
      );
      revision.value++;
    },
  );

  const appendLive = (): void => {
    const snap = stream.snapshot.value;
    const o = stream.overview.value;
    if (!snap || !o) return;
    const c = o.tcpStates;
    states.append(snap.time, { ESTABLISHED: c.ESTABLISHED, TIME_WAIT: c.TIME_WAIT, CLOSE_WAIT: c.CLOSE_WAIT, SYN_RECV: c.SYN_RECV });
    traffic.append(
      snap.time,
      trafficOf(snap.interfaces.map((i) => ({ name: i.name, flags: i.flags, rx: i.rates.rxBytesPerSec, tx: i.rates.txBytesPerSec }))),
    );
    revision.value++;
  };
  watch(stream.version, appendLive, { immediate: true });

  return { states, traffic, revision, error: res.error, resolutionSec };
}
