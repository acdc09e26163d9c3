/**
 * Lets timers and signal handlers run. tfjs reads and the head's JS steps resolve as microtasks, so without this a
 * training loop never yields: Ctrl-C would wait for the end and the run directory's lock would not be refreshed.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
