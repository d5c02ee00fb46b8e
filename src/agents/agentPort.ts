// The one interface every agent (external trainer, ONNX policy, random, scripted, FM2 replay) implements.

/** What an agent sees for one frame: the state before `frame` runs. */
export interface Observation {
  frame: number;
  /** Step index inside the episode (0-based), i.e. the dataset row this frame becomes. */
  step: number;
  episode: number;
  /** Which controller this agent drives (0 = controller 1). */
  player: 0 | 1;
  timestamp: number;
  ram: Uint8Array;
  /** RAM-map variables by name. */
  vars: Record<string, number>;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: Record<string, unknown>;
  /** RGBA 256x240 when the agent asked for screens. */
  screen?: Uint8Array;
}

/** An agent's answer: the buttons for a frame, tagged with the frame id it believes it is answering. */
export interface AgentAction {
  frame: number;
  buttons: number;
  /** Free-form info the agent wants recorded (e.g. value estimate). */
  info?: Record<string, unknown>;
}

export interface AgentEpisodeEnd {
  episode: number;
  terminationFrame: number;
  rows: number;
  reason: 'done_flag' | 'max_steps' | 'agent_terminated' | 'stopped';
  /** Rewards of the episode's last transition per controller (an observation carries the reward that led to it; the last one has no observation). */
  lastRewards?: [number, number];
}

export interface AgentPort {
  readonly name: string;
  /** True when the agent wants screens in its observations. */
  readonly wantsScreen: boolean;
  /** Called once before the first observation; may wait (e.g. for a trainer to connect). */
  start?(signal?: AbortSignal): Promise<void>;
  act(obs: Observation, signal?: AbortSignal): Promise<AgentAction>;
  episodeEnd?(end: AgentEpisodeEnd): void | Promise<void>;
  close(): Promise<void>;
}
