/**
 * A mutual-exclusion lock for async tasks: tasks run one at a time, in the order they asked. The
 * agents of a round call the model concurrently, but their commands (tests, screens, profiles) run
 * one at a time so that no measurement shares the CPUs with another of perfloop's own commands.
 */

/** Runs `task` once every task queued before it has settled; resolves or rejects as `task` does. */
export type Lock = <T>(task: () => Promise<T>) => Promise<T>;

/** A new, free lock. */
export function createLock(): Lock {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>): Promise<T> => {
    const run = tail.then(task);
    tail = run.catch(() => undefined);
    return run;
  };
}
