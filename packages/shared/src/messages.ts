/**
 * What goes over /ws. One discriminated union per direction, versioned, sequenced.
 *
 * Server → client: `hello` once, then `snapshot` (full state), then one `delta` per tick whose
 * `baseSeq` equals the seq the client holds. A gap (baseSeq ≠ held seq) means the client missed
 * something: it sends `resync` and the server answers with a fresh `snapshot`.
 *
 * What a client gets is chosen by query parameters on the /ws URL (see `parseStreamQuery`):
 * `view=summary` leaves the sockets out; `aggregates=patch` sends changed sections as patches
 * (`aggregatesPatch`) instead of whole (`aggregates`). Without them the stream is what it always was.
 */
import type { ProcessInfo, Snapshot, SnapshotAggregates, Socket } from './schema.js';

export const PROTOCOL_VERSION = 1 as const;

/** `full`: every socket. `summary`: snapshots with `sockets: []` and deltas with no socket changes, all else identical. */
export type StreamView = 'full' | 'summary';
/** How a delta carries the sections that changed: `whole` in `aggregates`, or as `patch`es in `aggregatesPatch`. */
export type AggregatesForm = 'whole' | 'patch';

export interface StreamOptions {
  view: StreamView;
  aggregates: AggregatesForm;
}

export const STREAM_VIEWS: readonly StreamView[] = ['full', 'summary'];
export const AGGREGATES_FORMS: readonly AggregatesForm[] = ['whole', 'patch'];

export interface HelloMessage {
  type: 'hello';
  v: typeof PROTOCOL_VERSION;
  agentVersion: string;
  /** Agent clock at send time, epoch ms: the page measures its skew from it. */
  serverTime: number;
  intervalMs: number;
  hostname: string;
  /** The view this connection streams (`/ws?view=…`); absent from agents older than the parameter. */
  view?: StreamView;
  /** How deltas on this connection carry changed sections (`/ws?aggregates=…`); absent from older agents. */
  aggregates?: AggregatesForm;
}

export interface SnapshotMessage {
  type: 'snapshot';
  v: typeof PROTOCOL_VERSION;
  seq: number;
  snapshot: Snapshot;
}

/**
 * A patch of one JSON object or array against the copy the client holds: `set` replaces members
 * whole, `patch` patches members that are themselves objects or arrays, `unset` deletes object
 * members. Array elements are addressed by index ("0", "1", …) and never unset: an array whose
 * length changed is replaced whole through its parent's `set`. Applied by `applyJsonPatch`.
 */
export interface JsonPatch {
  set?: Record<string, unknown>;
  patch?: Record<string, JsonPatch>;
  unset?: string[];
}

/** A two-level merge patch for `stats`: group → counter → new value. */
export interface StatsPatch {
  counters: Record<string, Record<string, number>>;
  rates: Record<string, Record<string, number | null>>;
}

export interface DeltaMessage {
  type: 'delta';
  v: typeof PROTOCOL_VERSION;
  /** The seq this delta produces. */
  seq: number;
  /** The seq this delta applies to. */
  baseSeq: number;
  time: number;
  sockets: {
    added: Socket[];
    changed: Socket[];
    removed: string[];
  };
  /** Processes upserted and removed by pid; absent when none changed. */
  processes?: { set: Record<string, ProcessInfo>; removed: string[] };
  /** Changed stats counters and rates; absent when none changed (or when `aggregates.stats` replaces them). */
  stats?: StatsPatch;
  /** Other top-level sections, each replaced whole when it changed. Empty with `aggregates=patch`. */
  aggregates: Partial<SnapshotAggregates>;
  /**
   * Only with `aggregates=patch`: the same sections as a patch of the snapshot's top level
   * (`set`: replaced whole, `patch`: only the members that changed, `unset`: section gone).
   * Absent when no section changed.
   */
  aggregatesPatch?: JsonPatch;
}

/** The server is going away (shutdown) or is dropping this client (too slow); the client reconnects. */
export interface ByeMessage {
  type: 'bye';
  v: typeof PROTOCOL_VERSION;
  reason: 'shutdown' | 'slow-consumer' | 'overloaded';
  message: string;
}

export interface ErrorMessage {
  type: 'error';
  v: typeof PROTOCOL_VERSION;
  message: string;
}

export type ServerMessage = HelloMessage | SnapshotMessage | DeltaMessage | ByeMessage | ErrorMessage;

/** Client → server. `resync`: send me a full snapshot (after a sequence gap). */
export interface ResyncRequest {
  type: 'resync';
}

export type ClientMessage = ResyncRequest;

/**
 * The stream options of a /ws URL's query (`view`, `aggregates`); defaults `full` and `whole`.
 * An unknown value is an error naming the accepted ones (the agent refuses the upgrade with 400);
 * other parameters are ignored.
 */
export function parseStreamQuery(query: URLSearchParams): StreamOptions | { error: string } {
  const pick = <T extends string>(name: string, allowed: readonly T[]): T | { error: string } => {
    const values = query.getAll(name);
    if (values.length === 0) return allowed[0]!;
    const value = values[0]!;
    if (values.length > 1) return { error: `${name} given ${values.length} times` };
    if (!(allowed as readonly string[]).includes(value)) {
      return { error: `unknown ${name} ${JSON.stringify(value.slice(0, 40))}: use ${allowed.join(' or ')}` };
    }
    return value as T;
  };
  const view = pick('view', STREAM_VIEWS);
  if (typeof view === 'object') return view;
  const aggregates = pick('aggregates', AGGREGATES_FORMS);
  if (typeof aggregates === 'object') return aggregates;
  return { view, aggregates };
}

/** Parse a client frame; returns null for anything that is not a known message. */
export function parseClientMessage(text: string): ClientMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'resync') {
    return { type: 'resync' };
  }
  return null;
}

const SERVER_TYPES = new Set<ServerMessage['type']>(['hello', 'snapshot', 'delta', 'bye', 'error']);

/** Parse a server frame; throws with a clear message on anything that is not a known message of this version. */
export function parseServerMessage(text: string): ServerMessage {
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null) throw new Error('server message is not an object');
  const m = value as { type?: unknown; v?: unknown };
  if (typeof m.type !== 'string' || !SERVER_TYPES.has(m.type as ServerMessage['type'])) {
    throw new Error(`unknown server message type ${JSON.stringify(m.type)}`);
  }
  if (m.v !== PROTOCOL_VERSION) throw new Error(`protocol version ${JSON.stringify(m.v)} is not ${PROTOCOL_VERSION}`);
  return value as ServerMessage;
}
