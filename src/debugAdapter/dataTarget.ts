// Which RAM bytes a data breakpoint request names: a RAM-map variable, ram[addr], an address (work RAM or PRG-RAM), or a row of a memory view.
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { RamMap } from '../core/config/ramMap';
import { hexAddress, type DataTarget } from './breakpoints';
import { memoryArea } from '../core/frameMemory';

/** The bytes `args` names, or a message saying why it names none. `isGameScope` tells the Game scope's references from the RAM view's. */
export function dataTargetFor(ramMap: RamMap, args: DebugProtocol.DataBreakpointInfoArguments, isGameScope: (ref: number) => boolean): DataTarget | string {
    const name = args.name.trim();
  const bytes = args.bytes ?? undefined;
  const checkRange = (t: DataTarget): DataTarget | string => {
    const area = t.length >= 1 ? memoryArea(t.address, t.length) : undefined;
    if (!area) return `${hexAddress(t.address)} + ${t.length} bytes is outside work RAM $0000-$07FF and PRG-RAM $6000-$7FFF`;
    // PRG-RAM costs 8 KB a frame, so frames carry it only when the RAM map names a variable there.
    if (area === 'prgRam' && !ramMap.needsPrgRam) return `${hexAddress(t.address)} is in PRG-RAM, which frames carry only when the RAM map names a variable in $6000-$7FFF: add one to the .rammap.json`;
    return t;
  };
  if (args.asAddress) {
    const m = /^(?:0x|\$)([0-9a-f]+)$|^(\d+)$/i.exec(name);
    if (!m) return `"${name}" is not an address (decimal, 0x hex or $hex)`;
    const address = m[1] !== undefined ? parseInt(m[1], 16) : Number(m[2]);
    const v = ramMap.lookup(address);
    const label = v && v.address === address && (bytes ?? 1) === v.size ? v.name : hexAddress(address);
    return checkRange({ address, length: bytes ?? 1, label });
  }
  const rowRef = args.variablesReference && !isGameScope(args.variablesReference) ? /^\$([0-9A-F]{4})$/.exec(name) : null;
  if (rowRef) return checkRange({ address: parseInt(rowRef[1], 16), length: bytes ?? 16, label: `ram row ${name}` });
  const varName = name.startsWith('vars.') ? name.slice(5) : name;
  const v = ramMap.lookup(varName);
  if (v && v.name === varName) return checkRange({ address: v.address, length: bytes ?? v.size, label: v.name });
  const idx = /^ram\[\s*(0x[0-9a-f]+|\$[0-9a-f]+|\d+)\s*\]$/i.exec(name);
  if (idx) {
    const t = idx[1];
    const address = t.startsWith('$') ? parseInt(t.slice(1), 16) : Number(t);
    return checkRange({ address, length: bytes ?? 1, label: `ram[${hexAddress(address)}]` });
  }
  return `"${name}" is not a RAM variable or address: use a RAM-map name, ram[0x18], or an address`;
}
