/**
 * The /connections table's logic, shared so the page (small tables, in the browser) and the agent
 * (big tables, GET /api/connections) filter, sort and export with the very same code.
 */
export * from './query.js';
export * from './ipfast.js';
export * from './filters.js';
export * from './columns.js';
export * from './sort.js';
export * from './changes.js';
export * from './exportData.js';
export * from './page.js';
