// Types for codeServerHost.mjs (hosting real VS Code offline: code-server, Chromium, process sweeping) for TypeScript callers.
import type { ChildProcess } from 'node:child_process';
import type { BrowserContext } from 'playwright-core';

export const REPO_ROOT: string;
export const CODE_SERVER_VERSION: string;
export const CHROMIUM_ARGS: readonly string[];
export const RUN_MARKER_VAR: string;

export class UsageError extends Error {}

export interface CodeServerInstall { node: string; entry: string }
export interface CodeServerDirs { userDataDir: string; extensionsDir: string }
type Say = (message: string) => void;

export function sleep(ms: number): Promise<void>;
export function positiveIntEnv(name: string, fallback: number): number;
export function findInstall(): CodeServerInstall;
export function chromiumPath(): string;
export function freePort(): Promise<number>;
export function pidsCarryingMarker(marker: string, options?: { prefix?: boolean; variable?: string }): number[];
export function killQuietly(pid: number, signal: NodeJS.Signals): void;
export function sweep(marker: string, groupLeader: number | undefined, say?: Say): Promise<void>;
export function waitUntilReaped(pids: number[], timeoutMs: number): Promise<void>;
export function isolatedEnv(scratch: string, marker: string): NodeJS.ProcessEnv;
export function writeSettings(userDataDir: string, extra?: Record<string, unknown>): void;
export function resultsDir(): string;
export function stamp(): string;
export function remoteUri(port: number, absPath: string): string;
export function startCodeServer(
  install: CodeServerInstall,
  env: NodeJS.ProcessEnv,
  dirs: CodeServerDirs,
  logFile: string,
  options: { verbose?: boolean; deadline: number; say?: Say },
): Promise<{ child: ChildProcess & { pid: number }; port: number }>;
export function runCodeServerCli(
  install: CodeServerInstall,
  env: NodeJS.ProcessEnv,
  dirs: CodeServerDirs,
  cliArgs: string[],
  deadlineMs: number,
  say?: Say,
  stdio?: 'inherit' | 'pipe',
): Promise<{ code: number; output: string; pid: number }>;
export function launchChromium(profileDir: string, env: NodeJS.ProcessEnv, deadline: number, viewport?: { width: number; height: number }): Promise<BrowserContext>;
export function workbenchUrl(port: number, folder: string, payload?: Array<[string, string]>): string;
