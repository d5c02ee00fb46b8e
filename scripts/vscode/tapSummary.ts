// Reads the pass/fail counts out of Node's TAP test report, for the closing `N passed, N failed` line of a test run.

/**
 * Node's TAP reporter ends with `# pass N`, `# fail N` and `# cancelled N` (tests, not suites). Cancelled tests
 * (cut off by a timeout) count as failed, and a report that never reached its summary (a crash) as one failure.
 */
export function countResults(tap: string): { passed: number; failed: number } {
  const num = (key: string) => {
    const m = new RegExp(`^# ${key} (\\d+)$`, 'm').exec(tap);
    return m ? Number(m[1]) : undefined;
  };
  const passed = num('pass');
  const failed = num('fail');
  if (passed === undefined || failed === undefined) return { passed: passed ?? 0, failed: Math.max(1, failed ?? 0) };
  return { passed, failed: failed + (num('cancelled') ?? 0) };
}
