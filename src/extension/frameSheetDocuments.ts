// Serves the inline debug adapter's frame sheets (the stopped frame as a page) as read-only `lockstep-frame:` documents.
import * as vscode from 'vscode';
import type { SheetStore } from '../debugAdapter/frameSheetFile';

export const FRAME_SHEET_SCHEME = 'lockstep-frame';

/**
 * Why a document provider and not a file: VS Code opens the stopped frame's source on every stop, and one URI per session
 * keeps one tab; a file outside the workspace is not reloaded when it changes, while onDidChange refreshes this one.
 */
export class FrameSheetDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  /** The store for one debug session: its sheet lives at one URI, named after the file name the adapter asks for. */
  storeFor(sessionId: string): (fileName: string) => SheetStore {
    return (fileName) => {
      const uri = vscode.Uri.from({ scheme: FRAME_SHEET_SCHEME, path: `/${fileName}`, query: `session=${encodeURIComponent(sessionId)}` });
      const key = uri.toString();
      return {
        write: (text) => {
          this.texts.set(key, text);
          this.changed.fire(uri);
          return key;
        },
        dispose: () => {
          // The session is over: its page goes, and so do the tabs showing it (a later session opens its own).
          this.texts.delete(key);
          const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs)
            .filter((t) => t.input instanceof vscode.TabInputText && t.input.uri.toString() === key);
          if (tabs.length > 0) void vscode.window.tabGroups.close(tabs, true).then(undefined, () => undefined);
        },
      };
    };
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? 'The Lockstep debug session of this frame sheet has ended.\n';
  }

  dispose(): void {
    this.changed.dispose();
    this.texts.clear();
  }
}
