// A sleep that never keeps the process alive: the session's waits for a client or a loop to finish must not hold Node open.
export function unrefSleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    t.unref?.();
  });
}
