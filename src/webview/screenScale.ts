// Integer pixel scaling for the NES screen: whole device pixels per NES pixel, so no pixel is drawn wider than another.

export interface ScreenScale {
  /** Device pixels per NES pixel. */
  factor: number;
  /** CSS size of the canvas (device size / devicePixelRatio). */
  cssWidth: number;
  cssHeight: number;
}

/**
 * `requested` 'fit' picks the largest factor that fits the available CSS box; a number is a zoom in CSS pixels, rounded
 * to whole device pixels (2x on a 1.25 display gives 3 device pixels per NES pixel). At least 1, at most `max`.
 */
export function screenScale(requested: 'fit' | number, availCssWidth: number, availCssHeight: number, dpr: number, width: number, height: number, max = 12): ScreenScale {
  const ratio = Number.isFinite(dpr) && dpr > 0 ? dpr : 1;
  let factor: number;
  if (requested === 'fit') {
    const fit = Math.floor(Math.min((availCssWidth * ratio) / width, (availCssHeight * ratio) / height));
    factor = Math.max(1, Math.min(max, fit));
  } else {
    factor = Math.max(1, Math.min(max, Math.round(requested * ratio)));
  }
  return { factor, cssWidth: (width * factor) / ratio, cssHeight: (height * factor) / ratio };
}
