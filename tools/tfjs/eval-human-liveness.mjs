// The peer for tools/eval/eval-liveness: Human 3.3.6's own pipeline (BlazeFace -> FaceMesh
// crop -> antispoof and liveness, its dist/human.node-wasm.js on the tfjs cpu backend) on the
// same pictures (tfjs wasm backend by default), padded the same way (black, --pad 0.75,0.35 of the width and height on each
// side, as eval-liveness's videobox does). Prints APCER / BPCER / ACER at the thresholds.
//
//   node eval-human-liveness.mjs DATASET_DIR [--thresholds 0.5,0.5] [--csv OUT.csv] [--backend wasm|cpu]
//
// DATASET_DIR holds real/ and spoof/ with PNG pictures (8-bit RGB or RGBA). A picture where
// Human finds no face counts as rejected. Human's scores are rounded to 0.01 by Human.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PNG } from 'pngjs';

const require = createRequire(import.meta.url);
const arg = (name, def) => { const i = process.argv.indexOf(name); return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def; };
const DATA = process.argv[2];
if (!DATA || !fs.existsSync(path.join(DATA, 'real')) || !fs.existsSync(path.join(DATA, 'spoof'))) {
  console.error('usage: node eval-human-liveness.mjs DATASET_DIR (with real/ and spoof/)');
  process.exit(2);
}
const [TR, TL] = arg('--thresholds', '0.5,0.5').split(',').map(Number);
const CSV = arg('--csv', '');
const BACKEND = arg('--backend', 'wasm');  // wasm: XNNPACK, one thread; cpu: pure JS, slower
const MODELS = process.env.FACEGRAPH_MODELS || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'facegraph', 'models');

globalThis.fetch = async (url) => {
  const u = String(url);
  if (!u.startsWith('file://')) throw new Error(`network access refused: ${u}`);
  return new Response(fs.readFileSync(fileURLToPath(u)), { status: 200, headers: { 'content-type': u.endsWith('.json') ? 'application/json' : 'application/octet-stream' } });
};
const core = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const humanDir = path.resolve(path.dirname(require.resolve('@vladmandic/human')), '..');
const { Human } = require(path.join(humanDir, 'dist/human.node-wasm.js'));
const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));

const config = {
  backend: BACKEND, modelBasePath: `${pathToFileURL(MODELS).href}/`, wasmPath: `${wasmDir}${path.sep}`,
  cacheModels: false, debug: false, async: false, warmup: 'none', cacheSensitivity: 0, skipAllowed: false,
  filter: { enabled: false }, gesture: { enabled: false },
  face: {
    enabled: true, detector: { rotation: false, maxDetected: 1, skipFrames: 0, skipTime: 0, minConfidence: 0.2 },
    mesh: { enabled: true }, attention: { enabled: false }, iris: { enabled: false }, emotion: { enabled: false },
    description: { enabled: false }, gear: { enabled: false }, ssrnet: { enabled: false }, mobilefacenet: { enabled: false },
    insightface: { enabled: false },
    antispoof: { enabled: true, skipFrames: 0, skipTime: 0 }, liveness: { enabled: true, skipFrames: 0, skipTime: 0 },
  },
  body: { enabled: false }, hand: { enabled: false }, object: { enabled: false }, segmentation: { enabled: false },
};
const human = new Human(config);
await human.init();
await human.load();

function padded(file) {
  const png = PNG.sync.read(fs.readFileSync(file));
  const px = 2 * Math.round(0.75 * png.width / 2); const py = 2 * Math.round(0.35 * png.height / 2);
  const W = png.width + 2 * px; const H = png.height + 2 * py;
  const rgb = new Float32Array(W * H * 3);
  for (let y = 0; y < png.height; y++) for (let x = 0; x < png.width; x++) for (let c = 0; c < 3; c++) {
    rgb[((y + py) * W + x + px) * 3 + c] = png.data[(y * png.width + x) * 4 + c];
  }
  return core.tensor4d(rgb, [1, H, W, 3], 'float32');
}

const rows = [];
for (const cls of ['real', 'spoof']) {
  for (const n of fs.readdirSync(path.join(DATA, cls)).filter((f) => f.toLowerCase().endsWith('.png')).sort()) {
    human.reset();
    const t = padded(path.join(DATA, cls, n));
    const res = await human.detect(t, config);
    t.dispose();
    const f = res.face[0];
    rows.push({ file: n, cls, found: !!f, real: f ? f.real : 0, live: f ? f.live : 0 });
    process.stdout.write(`${cls} ${n}: ${f ? `real ${f.real} live ${f.live}` : 'no face'}\n`);
  }
}
const acc = (r) => r.found && r.real >= TR && r.live >= TL;
const spoof = rows.filter((r) => r.cls === 'spoof'); const real = rows.filter((r) => r.cls === 'real');
const apcer = spoof.filter(acc).length / spoof.length; const bpcer = real.filter((r) => !acc(r)).length / real.length;
console.log(`Human 3.3.6 on ${DATA}: ${real.length} real, ${spoof.length} spoof (no face: ${rows.filter((r) => !r.found).length})`);
console.log(`both, real>=${TR} live>=${TL}: APCER ${apcer.toFixed(3)} BPCER ${bpcer.toFixed(3)} ACER ${((apcer + bpcer) / 2).toFixed(3)}`);
if (CSV) fs.writeFileSync(CSV, `file,class,found,real,live\n${rows.map((r) => `${r.file},${r.cls},${r.found},${r.real},${r.live}`).join('\n')}\n`);
