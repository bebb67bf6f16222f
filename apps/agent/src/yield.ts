/** Give the event loop a turn (HTTP, /ws) between slices of long work. */
export const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
