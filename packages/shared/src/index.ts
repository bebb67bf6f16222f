export * from './schema.js';
export * from './messages.js';
export * from './delta.js';
export * from './format.js';
export * from './ip.js';
export * from './alerts.js';
export * from './summary.js';
export * from './table/index.js';
