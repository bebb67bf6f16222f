/**
 * What goes over /ws. One discriminated union per direction, versioned, sequenced.
 *
 * Server → client: `hello` once, then `snapshot` (full state), then one `delta` per tick whose
 * `baseSeq` equals the seq the client holds. A gap (baseSeq ≠ held seq) means the client missed
 * something: it sends `resync` and the server answers with a fresh `snapshot`.
 */
import type { ProcessInfo, Snapshot, SnapshotAggregates, Socket } from './schema.js';

export const PROTOCOL_VERSION = 1 as const;

export interface HelloMessage {
  type: 'hello';
  v: typeof PROTOCOL_VERSION;
  agentVersion: string;
  /** Agent clock at send time, epoch ms: the page measures its skew from it. */
  serverTime: number;
  intervalMs: number;
  hostname: string;
}

export interface SnapshotMessage {
  type: 'snapshot';
  v: typeof PROTOCOL_VERSION;
  seq: number;
  snapshot: Snapshot;
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
  /** Other top-level sections, each replaced whole when it changed. */
  aggregates: Partial<SnapshotAggregates>;
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
