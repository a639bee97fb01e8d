/**
 * The soak's PNG: four panels (heap after GC, RSS, active handles, event-loop lag
 * p99) over time, one line per node, drawn by Chart.js on a Skia canvas
 * (@napi-rs/canvas, whose binary comes from the npm registry) and stacked into one
 * image. The 2nd and 4th quarters, which the heap check compares, are shaded.
 */
import { createCanvas, type Canvas } from '@napi-rs/canvas';
import { Chart, registerables, type ChartConfiguration, type Plugin } from 'chart.js';
import type { NodeSample } from './verdict.ts';

Chart.register(...registerables);

const WIDTH = 1000;
const PANEL_HEIGHT = 280;
const TITLE_HEIGHT = 40;
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

interface Panel {
  title: string;
  value: (s: NodeSample) => number;
}

const PANELS: Panel[] = [
  { title: 'heap used after a full GC (MiB)', value: (s) => s.heapAfterGc / 1048576 },
  { title: 'RSS (MiB)', value: (s) => s.rss / 1048576 },
  { title: 'active handles', value: (s) => s.handles },
  { title: 'event-loop lag p99 over the interval (ms)', value: (s) => s.lagP99Ms },
];

/** Shades [T/4, T/2) and [3T/4, T], the quarters the heap check compares. */
function quarterShading(durationS: number): Plugin<'line'> {
  return {
    id: 'quarters',
    beforeDatasetsDraw(chart) {
      const { ctx, chartArea, scales } = chart;
      ctx.save();
      ctx.fillStyle = 'rgba(0, 0, 0, 0.06)';
      for (const [from, to] of [
        [durationS / 4, durationS / 2],
        [(3 * durationS) / 4, durationS],
      ]) {
        const left = scales.x.getPixelForValue(from);
        const right = scales.x.getPixelForValue(to);
        ctx.fillRect(left, chartArea.top, right - left, chartArea.bottom - chartArea.top);
      }
      ctx.restore();
    },
  };
}

/** Draws panel `p` onto `target` at `top`. */
function drawPanel(target: Canvas, top: number, p: Panel, nodes: readonly string[], samples: readonly NodeSample[], durationS: number): void {
  const canvas = createCanvas(WIDTH, PANEL_HEIGHT);
  const config: ChartConfiguration<'line', Array<{ x: number; y: number }>> = {
    type: 'line',
    data: {
      datasets: nodes.map((node, i) => ({
        label: `node ${node}`,
        data: samples.filter((s) => s.node === node).map((s) => ({ x: s.t, y: p.value(s) })),
        borderColor: COLOURS[i % COLOURS.length],
        backgroundColor: COLOURS[i % COLOURS.length],
        pointRadius: 2,
        borderWidth: 2,
      })),
    },
    options: {
      animation: false,
      responsive: false,
      devicePixelRatio: 1,
      plugins: { title: { display: true, text: p.title }, legend: { position: 'right' } },
      scales: {
        x: { type: 'linear', min: 0, max: durationS, title: { display: true, text: 'seconds since the start' } },
        y: { beginAtZero: true },
      },
    },
    plugins: [quarterShading(durationS)],
  };
  // Chart.js takes anything with getContext('2d'); the Skia canvas is one.
  const chart = new Chart(canvas as unknown as HTMLCanvasElement, config);
  chart.draw();
  target.getContext('2d').drawImage(canvas, 0, top);
  // After the copy: destroy() clears the canvas it drew on.
  chart.destroy();
}

/** The PNG bytes of the four panels under a title line. */
export function plotPng(title: string, nodes: readonly string[], samples: readonly NodeSample[], durationS: number): Buffer {
  const out = createCanvas(WIDTH, TITLE_HEIGHT + PANELS.length * PANEL_HEIGHT);
  const ctx = out.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.fillStyle = '#000000';
  ctx.font = '16px sans-serif';
  ctx.fillText(title, 12, 26);
  PANELS.forEach((p, i) => drawPanel(out, TITLE_HEIGHT + i * PANEL_HEIGHT, p, nodes, samples, durationS));
  return out.toBuffer('image/png');
}
