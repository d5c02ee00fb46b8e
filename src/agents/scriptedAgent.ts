// Built-in scripted agent: a user's JavaScript module exporting act(observation), loaded from a file.
import { pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AgentAction, AgentEpisodeEnd, AgentPort, Observation } from '../core/ports';
import { isButtonMask, namesToMask } from '../core/buttons';

/** What a script's act() may return: a mask, button names, or an object (frame may be given to test desync handling). */
export type ScriptResult = number | string[] | { buttons: number | string[]; frame?: number; info?: Record<string, unknown> };

export interface ScriptModule {
  act(obs: Observation): ScriptResult | Promise<ScriptResult>;
  reset?(episode: number): void | Promise<void>;
  episodeEnd?(end: AgentEpisodeEnd): void | Promise<void>;
  wantsScreen?: boolean;
}

export class ScriptedAgent implements AgentPort {
  readonly name: string;
  readonly wantsScreen: boolean;
  private episode = -1;

  constructor(private readonly script: ScriptModule, label = 'script') {
    if (typeof script?.act !== 'function') throw new Error(`scripted agent ${label}: the module must export a function act(observation)`);
    this.name = `scripted(${label})`;
    this.wantsScreen = script.wantsScreen === true;
  }

  /** Loads a module (.js, .cjs or .mjs) and checks it exports act(). */
  static async load(path: string): Promise<ScriptedAgent> {
    const abs = resolve(path);
    if (!existsSync(abs)) throw new Error(`scripted agent not found: ${abs}`);
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`scripted agent ${abs} failed to load: ${(e as Error).message}`);
    }
    const candidate = (typeof mod.act === 'function' ? mod : (mod.default as Record<string, unknown> | undefined)) ?? {};
    if (typeof candidate.act !== 'function') throw new Error(`scripted agent ${abs} must export a function act(observation)`);
    return new ScriptedAgent(candidate as unknown as ScriptModule, abs);
  }

  async act(obs: Observation): Promise<AgentAction> {
    if (obs.episode !== this.episode) {
      this.episode = obs.episode;
      await this.script.reset?.(obs.episode);
    }
    const r = await this.script.act(obs);
    return toAction(r, obs.frame, this.name);
  }

  async episodeEnd(end: AgentEpisodeEnd): Promise<void> {
    await this.script.episodeEnd?.(end);
  }

  async close(): Promise<void> {}
}

function toAction(r: ScriptResult, frame: number, name: string): AgentAction {
  if (isButtonMask(r)) return { frame, buttons: r };
  if (Array.isArray(r)) return { frame, buttons: namesToMask(r) };
  if (r && typeof r === 'object' && 'buttons' in r) {
    const buttons = Array.isArray(r.buttons) ? namesToMask(r.buttons) : r.buttons;
    if (!isButtonMask(buttons)) throw new Error(`${name}: act() returned buttons ${JSON.stringify(r.buttons)}; expected a mask 0-255 or button names`);
    const f = r.frame ?? frame;
    if (!Number.isSafeInteger(f)) throw new Error(`${name}: act() returned frame ${JSON.stringify(r.frame)}; expected an integer`);
    return { frame: f, buttons, info: r.info };
  }
  throw new Error(`${name}: act() returned ${JSON.stringify(r)?.slice(0, 80)}; expected a button mask, a list of button names or { buttons }`);
}
