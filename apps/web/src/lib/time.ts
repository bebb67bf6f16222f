/** Clock and duration text. */
const p2 = (n: number) => String(n).padStart(2, '0');

/** Local hh:mm:ss. */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  return `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
}

/** 3 s, 4 min 05 s, 2 h 03 min, 3 d 4 h. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${p2(s % 60)} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${p2(m % 60)} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** 1234567 → 1,234,567 (fixed locale so tests and screens agree). */
export function count(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return Math.round(n).toLocaleString('en-US');
}

/** Per-second rate with one decimal under 10. */
export function rate(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  if (Math.abs(n) < 10 && n !== 0) return n.toFixed(1);
  return Math.round(n).toLocaleString('en-US');
}
