// Exit codes lua/lockstep.lua ends FCEUX with in launch mode, and their meaning for error messages (keep in sync with the script's header).

export const LUA_EXIT = {
  quit: 0,
  config: 2,
  badToken: 3,
  bridgeGone: 4,
  protocol: 5,
  replaced: 6,
  internal: 7,
} as const;

const MEANINGS: Record<number, string> = {
  [LUA_EXIT.quit]: 'the bridge told it to quit',
  [LUA_EXIT.config]: 'bad configuration of lockstep.lua (port/token missing or LuaSocket not installed)',
  [LUA_EXIT.badToken]: 'the bridge refused its session token',
  [LUA_EXIT.bridgeGone]: 'it lost the bridge and could not reconnect',
  [LUA_EXIT.protocol]: 'protocol error between lockstep.lua and the bridge',
  [LUA_EXIT.replaced]: 'another FCEUX connected and replaced it',
  [LUA_EXIT.internal]: 'internal error in lockstep.lua',
};

/** "code 3: the bridge refused its session token", "signal SIGKILL", ... */
export function describeFceuxExit(code: number | null, signal: NodeJS.Signals | null): string {
  if (code === null) return `signal ${signal ?? 'unknown'}`;
  const meaning = MEANINGS[code];
  if (meaning) return `code ${code}: ${meaning}`;
  if (code === 139 || code === -11) return `code ${code}: FCEUX crashed (segmentation fault)`;
  return `code ${code}`;
}
