// Hands each authenticated trainer link on a bridge to the WebSocket agent of the controller it asked for (or the first free one).
import type { BridgeLink, BridgeServer } from '../bridge/bridgeServer';
import { CLOSE } from '../bridge/protocol';
import { preview } from '../bridge/protocolCodec';

/** What the router needs from an agent: is a trainer attached, and take this link. */
export interface RoutedAgent {
  readonly player: 0 | 1;
  readonly connected: boolean;
  attach(link: BridgeLink): void;
}


export type RouterLog = (level: 'info' | 'warn' | 'error', message: string) => void;

/**
 * One router per bridge: the bridge has a single 'agent' handler, so every WebSocket agent of a session registers here.
 * A link naming a controller replaces that controller's current link (a restarted trainer must not be locked out by a
 * half-dead socket); a link naming none gets the lowest free controller, and is refused when none is free.
 */
export class AgentLinkRouter {
  private readonly agents: Array<RoutedAgent | undefined> = [undefined, undefined];
  private readonly log: RouterLog;

  constructor(readonly bridge: BridgeServer, log?: RouterLog) {
    this.log = log ?? (() => undefined);
    bridge.setHandler('agent', (link) => this.route(link));
  }

  register(agent: RoutedAgent): void {
    const existing = this.agents[agent.player];
    if (existing && existing !== agent) throw new Error(`controller ${agent.player + 1} already has a WebSocket agent on this bridge`);
    this.agents[agent.player] = agent;
  }

  unregister(agent: RoutedAgent): void {
    if (this.agents[agent.player] === agent) this.agents[agent.player] = undefined;
    if (this.agents.every((a) => a === undefined)) this.bridge.setHandler('agent', undefined);
  }

  /** Which controllers have an agent waiting for a trainer. */
  get freePlayers(): Array<0 | 1> {
    return ([0, 1] as const).filter((p) => this.agents[p] && !this.agents[p]!.connected);
  }

  private route(link: BridgeLink): void {
    const refuse = (code: number, reason: string) => {
      this.log('warn', `refused trainer link from ${link.remote}: ${reason}`);
      link.sendJson({ type: 'error', code: 'refused', message: reason });
      link.close(code, reason);
    };
    const asked = link.hello.player;
    if (asked !== undefined && asked !== null && asked !== 0 && asked !== 1) {
      return refuse(CLOSE.malformed, `hello.player must be 0 or 1 (controller 1 or 2), got ${preview(asked)}`);
    }
    const controllers = this.agents.flatMap((a, i) => (a ? [`controller ${i + 1}`] : []));
    if (asked === 0 || asked === 1) {
      const agent = this.agents[asked];
      if (!agent) {
        const offer = controllers.length ? `; this session has WebSocket agents on ${controllers.join(' and ')}` : '';
        return refuse(CLOSE.normal, `no WebSocket agent drives controller ${asked + 1} (player ${asked})${offer}`);
      }
      agent.attach(link);
      return;
    }
    const free = this.freePlayers;
    if (free.length === 0) {
      return refuse(CLOSE.normal, controllers.length
        ? `no free controller: ${controllers.join(' and ')} already have a trainer (name a player in the hello to replace one)`
        : 'no WebSocket agent in this session');
    }
    this.agents[free[0]]!.attach(link);
  }
}
