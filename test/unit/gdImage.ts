// Test images in the layout FCEUX's gui.gdscreenshot() returns (GD 2.0 truecolor: 11-byte header, then ARGB per pixel).
import { GD_HEADER_BYTES } from '../../src/bridge/screenFrame';

export function makeGd(width: number, height: number, argb: (i: number) => [number, number, number, number]): Uint8Array {
  const out = new Uint8Array(GD_HEADER_BYTES + width * height * 4);
  out.set([0xff, 0xfe, width >> 8, width & 0xff, height >> 8, height & 0xff, 1, 0xff, 0xff, 0xff, 0xff]);
  for (let i = 0; i < width * height; i++) out.set(argb(i), GD_HEADER_BYTES + i * 4);
  return out;
}
