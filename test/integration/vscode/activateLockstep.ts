// Finds and activates Lockstep inside the real extension host (its manifest has no activation events yet).
import * as vscode from 'vscode';

/** publisher.name from package.json. */
export const EXTENSION_ID = 'lockstep-nes.lockstep-nes';

export async function activateLockstep(): Promise<vscode.Extension<unknown>> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not loaded: is --extensionDevelopmentPath the repo root?`);
  await ext.activate();
  return ext;
}
