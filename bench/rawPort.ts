// One bench row shared by the benches: frames/s of an EmulatorPort stepped directly with seeded random buttons, no runtime.
import type { EmulatorPort } from '../src/core/ports';
import { Prng } from '../src/core/prng';
import { WARMUP_FRAMES } from './benchWarmup';

/** Frames/s of `make()`'s port over `frames` steps of `romPath` after the warm-up (a RAM copy per frame, as the runtime gets). */
export async function rawPort(make: () => EmulatorPort, romPath: string, frames: number): Promise<number> {
  const emu = make();
  await emu.start(romPath);
  const rng = new Prng(1);
  for (let i = 0; i < WARMUP_FRAMES; i++) await emu.step([rng.int(256) & 0xc3, 0]);
  const t0 = performance.now();
  for (let i = 0; i < frames; i++) await emu.step([rng.int(256) & 0xc3, 0]);
  const fps = (frames / (performance.now() - t0)) * 1000;
  await emu.close();
  return fps;
}
