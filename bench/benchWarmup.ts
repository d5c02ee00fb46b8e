// How many frames (or steps) every timed loop of the benches runs before its clock starts.

/**
 * Frames each timed loop runs before its clock starts (BENCH_WARMUP, default 300). V8 compiles a path's hot code in
 * its first hundreds of frames (jsnes starts several times slower), and a row with more code to compile (the runtime)
 * would otherwise pay more of that than one with less (a floor): every row warms up alike, so the figures are the
 * steady state a long run sees.
 */
export const WARMUP_FRAMES = Number(process.env.BENCH_WARMUP ?? 300);
