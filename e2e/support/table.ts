/** Reading the dashboard's socket table (SocketTable.vue over VirtualList.vue) as plain rows. */
import type { Locator, Page } from '@playwright/test';

export interface TableRow {
  index: number;
  proto: string;
  local: string;
  remote: string;
  state: string;
  /** The state badge's hover text (TCP_STATE_HELP). */
  stateHelp: string;
  program: string;
  user: string;
  inode: string;
  timer: string;
  /** Ghost of a closed socket (struck through, " closed" after the state). */
  closed: boolean;
  /** Flashing as new (first seconds after it appeared). */
  fresh: boolean;
}

/** The table with the given accessible name ("Connections", "Listening sockets"). */
export function socketTable(page: Page, name = 'Connections'): Locator {
  return page.getByRole('table', { name, exact: true });
}

/** The rows the virtual list has in the DOM (all of them, for the small filtered sets used here). */
export async function readRows(table: Locator): Promise<TableRow[]> {
  return table.locator('.vrow').evaluateAll((els) =>
    els.map((el) => {
      const cells = [...el.querySelectorAll<HTMLElement>('[role=cell]')];
      // Address cells are "addr<span class=svc> service</span>": the first text node is the address.
      const first = (i: number) => (cells[i]?.childNodes[0]?.textContent ?? '').trim();
      const text = (i: number) => (cells[i]?.textContent ?? '').trim();
      const badge = cells[5]?.querySelector<HTMLElement>('.state');
      return {
        index: Number(el.dataset.index),
        proto: text(0),
        local: first(3),
        remote: first(4),
        state: badge?.dataset.state ?? '',
        stateHelp: badge?.title ?? '',
        program: text(6),
        user: text(7),
        inode: text(8),
        timer: text(9),
        closed: el.classList.contains('closed'),
        fresh: el.classList.contains('fresh'),
      };
    }),
  );
}

/** `proto local remote state program`, sorted: one string per live row, for exact comparisons. */
export async function rowKeys(table: Locator): Promise<string[]> {
  const rows = await readRows(table);
  return rows
    .filter((r) => !r.closed)
    .map((r) => `${r.proto} ${r.local} ${r.remote} ${r.state} ${r.program}`)
    .sort();
}

export const key = (proto: string, local: string, remote: string, state: string, program: string) => `${proto} ${local} ${remote} ${state} ${program}`;

/** Minimal RFC 4180 reader (quoted fields, doubled quotes, CRLF). */
export function parseCsv(text: string): string[][] {
  const out: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      out.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    out.push(row);
  }
  return out;
}
