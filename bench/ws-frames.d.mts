/** Types for ws-frames.mjs (used by bench/run.mjs, tested in apps/agent/test/unit/ws-frames.test.ts). */
import type { EventEmitter } from 'node:events';
export function trackFrames(socket: EventEmitter, sizes: number[]): void;
