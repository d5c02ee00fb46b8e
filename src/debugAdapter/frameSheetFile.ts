// The frame sheet's file: one text page per session, rewritten at every stop, that the stack frame points VS Code at.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where the sheet is written; injected so that tests (and other hosts) can keep it in memory or elsewhere. */
export interface SheetStore {
  /** Writes the page and returns its path; the same path for the whole session. */
  write(text: string): string;
  /** Removes what write() created. */
  dispose(): void;
}

/**
 * Why a file and not a `sourceReference`: VS Code opens the stopped frame's source on every stop. A reference is a new
 * URI each time (a new tab per stop, old ones left behind with old content), while one file path keeps one tab that
 * VS Code reloads when the file changes.
 */
export class FrameSheetFile implements SheetStore {
  private folder?: string;
  private path?: string;

  constructor(private readonly fileName: string, private readonly parent: string = tmpdir()) {
    if (!/^[^/\\\0]+$/.test(fileName)) throw new Error(`frame sheet: file name must not contain a path, got ${JSON.stringify(fileName)}`);
  }

  write(text: string): string {
    if (!this.path) {
      this.folder = mkdtempSync(join(this.parent, 'lockstep-frame-'));
      this.path = join(this.folder, this.fileName);
    }
    writeFileSync(this.path, text, { mode: 0o600 });
    return this.path;
  }

  dispose(): void {
    if (this.folder) rmSync(this.folder, { recursive: true, force: true });
    this.folder = undefined;
    this.path = undefined;
  }
}
