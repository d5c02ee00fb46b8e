// Types for the slice of mocha 11 the in-host suite uses (@types/mocha is not installed; delete this file if it is).
declare module 'mocha' {
  /** `this` inside tests and hooks (use `function () {}`, not arrows, to reach it). */
  export interface Context {
    timeout(ms: number): this;
    slow(ms: number): this;
  }
  export type Func = (this: Context) => void | PromiseLike<unknown>;
  export type SuiteFunc = (this: { timeout(ms: number): void }) => void;

  export function describe(title: string, fn: SuiteFunc): void;
  export function it(title: string, fn: Func): void;
  export function before(fn: Func): void;
  export function after(fn: Func): void;
  export function beforeEach(fn: Func): void;
  export function afterEach(fn: Func): void;
  export const suite: typeof describe;
  export const test: typeof it;
  export const suiteSetup: typeof before;
  export const suiteTeardown: typeof after;
  export const setup: typeof beforeEach;
  export const teardown: typeof afterEach;

  export interface TestInfo {
    fullTitle(): string;
    duration?: number;
  }
  export interface Runner {
    on(event: 'pass' | 'pending', listener: (test: TestInfo) => void): this;
    on(event: 'fail', listener: (test: TestInfo, err: unknown) => void): this;
    on(event: 'end', listener: () => void): this;
  }
  export interface MochaOptions {
    ui?: 'bdd' | 'tdd';
    timeout?: number;
    color?: boolean;
    grep?: string | RegExp;
    reporter?: new (runner: Runner) => unknown;
  }
  export default class Mocha {
    constructor(options?: MochaOptions);
    addFile(file: string): this;
    run(done: (failures: number) => void): Runner;
  }
}
