// Buffer panel in real Chromium, driven by the real BufferController on a live runtime: rows, desync marks and filter, row detail.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { LiveRuntimeSource } from '../../src/extension/panels/runtimeSource';
import { BufferController } from '../../src/extension/panels/bufferController';
import { panelSuite, type PanelPage } from './harness';
import { RAM_MAP, liveRuntime, makeServices } from './liveSession';

async function tableFrames(p: PanelPage): Promise<number[]> {
  return p.page.$$eval('#rows tr', (trs) => trs.map((tr) => Number((tr as HTMLElement).dataset.frame)));
}

describe('buffer panel (Chromium)', () => {
  const panels = panelSuite();

  test('the table follows the sync buffer (newest first), marks desync rows, filters to them, and shows a row in full', async () => {
    // The agent answers its 11th observation with a frame id 2 ahead: a real minor_skip (gap 2) that the runtime marks in the buffer.
    const rt = await liveRuntime({ skipAt: [10], sync: { syncBufferSize: 16 } });
    const source = new LiveRuntimeSource();
    source.attach({ runtime: rt, ramMap: RAM_MAP, session: 'buf-1' });
    let ctl!: BufferController;
    const p = await panels.open('buffer', { width: 1100, height: 700, beforeLoad: (page) => { ctl = new BufferController(page, source, makeServices()); } });
    try {
      for (let i = 0; i < 14; i++) await rt.advance();
      const states = rt.buffer.states();
      const desyncFrames = states.filter((s) => s.desync?.length).map((s) => s.frame);
      assert.equal(desyncFrames.length, 1, 'the runtime marked one buffered state');
      const expected = states.map((s) => s.frame).reverse();
      await p.waitFor('rows equal the buffer', async () => JSON.stringify(await tableFrames(p)) === JSON.stringify(expected));
      assert.match(await p.page.locator('#row-count').innerText(), new RegExp(`^${states.length} states buffered \\(capacity 16\\) · 1 with desyncs`));
      const desyncRow = p.page.locator(`#rows tr[data-frame="${desyncFrames[0]}"]`);
      assert.match((await desyncRow.getAttribute('class')) ?? '', /desync/);
      assert.match(await desyncRow.innerText(), /minor_skip/);
      assert.match(await desyncRow.innerText(), /confirmed/);
      assert.match(await desyncRow.innerText(), /0\.00 ms/, 'a screen tagged with the same frame pairs at 0 ms');

      await p.page.locator('#desync-only').click();
      assert.deepEqual(await tableFrames(p), desyncFrames);
      await p.page.locator('#desync-only').click();
      assert.equal((await tableFrames(p)).length, states.length);

      // Select the newest row: the detail pane shows that state's variables and its paired screen.
      const newest = states[states.length - 1];
      await p.page.locator(`#rows tr[data-frame="${newest.frame}"]`).click();
      const sel = await p.waitFor('selectRow', () => p.messages('selectRow').at(-1));
      assert.equal(sel.frame, newest.frame);
      await p.waitFor('detail', async () => (await p.page.locator('#detail').getAttribute('data-frame')) === String(newest.frame));
      const vars = RAM_MAP.read(newest.state.ram);
      const varText = await p.page.locator('#vars').innerText();
      for (const name of ['p1_x', 'score_p1', 'timer']) {
        assert.match(varText, new RegExp(`${name}\\s+\\$00[0-9A-F]{2}\\s+${vars[name]}\\b`), `${name} = ${vars[name]} shown with its address`);
      }
      const thumb = await p.page.evaluate(() => {
        const c = document.getElementById('thumb') as HTMLCanvasElement;
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let s = '';
        for (let i = 0; i < d.length; i += 0x8000) s += String.fromCharCode(...d.subarray(i, i + 0x8000));
        return btoa(s);
      });
      const screen = rt.buffer.pair(newest.frame)!.screen!;
      assert.ok(Buffer.from(thumb, 'base64').equals(Buffer.from(screen)), 'thumbnail pixels equal the buffered screen');
      assert.equal(await p.page.locator(`#rows tr[data-frame="${newest.frame}"]`).getAttribute('aria-selected'), 'true');
      assert.deepEqual((p.savedState as { selected: number }).selected, newest.frame, 'selection is kept with setState');
      await p.page.locator('vscode-collapsible').click();
      assert.match(await p.page.locator('.hexdump').innerText(), /^\$0000 {2}[0-9A-F]{2} /);
      assert.ok(ctl.flowStats.acked >= 1, 'row tables are acknowledged');
      await p.screenshot('buffer-dark');
      assert.deepEqual(p.cspViolations, []);
      assert.deepEqual(p.pageErrors, []);
    } finally {
      ctl.dispose();
      await p.close();
      await rt.close();
    }
  });

  test('step back rewinds the table; a row that left the buffer says so; a finished session is marked ended', async () => {
    const rt = await liveRuntime({ stepBackDepth: 10, sync: { syncBufferSize: 8 } });
    const source = new LiveRuntimeSource();
    const attached = source.attach({ runtime: rt, ramMap: RAM_MAP });
    let ctl!: BufferController;
    const p = await panels.open('buffer', { beforeLoad: (page) => { ctl = new BufferController(page, source, makeServices()); } });
    try {
      for (let i = 0; i < 12; i++) await rt.advance();
      const oldest = rt.buffer.states()[0].frame;
      await rt.stepBack(3);
      const expected = rt.buffer.states().map((s) => s.frame).reverse();
      await p.waitFor('rows after step back', async () => JSON.stringify(await tableFrames(p)) === JSON.stringify(expected));
      assert.equal(expected[0], rt.current!.frame);
      p.post({ type: 'bufferDetail', detail: { ...(await import('../../src/extension/panels/bufferController')).bufferDetail(rt, oldest - 5) } });
      await p.waitFor('missing detail', async () => /no longer in the buffer/.test(await p.page.locator('#detail').innerText()));
      attached.dispose();
      await p.waitFor('ended badge', async () => (await p.page.locator('#session-state').innerText()).trim().toLowerCase() === 'ended');
      assert.equal((await tableFrames(p)).length, expected.length, 'an ended session keeps its rows');
    } finally {
      ctl.dispose();
      await p.close();
      await rt.close();
    }
  });
});
