// The peer for tools/eval/eval-emotion: @vladmandic/human 3.3.6 (its own dist build
// `dist/human.node-wasm.js`, no tfjs-node) end to end on the same frames the graph saw.
//
//   build/tools/eval-emotion DATASET --save-frames FRAMES      # writes FRAMES/<class>/*.png
//   node tools/tfjs/eval-human-emotion.mjs FRAMES [--backend wasm|cpu] [--out DIR] [--limit N]
//
// Human runs with its default face settings (detector minConfidence 0.2, maxDetected 1,
// scale 1.4, mesh on, emotion minConfidence 0.1), with caching and frame skipping off so each
// image is a fresh still, and everything but the face off. Its answer is the top entry of
// face[0].emotion (Human sorts them by score and drops those under 0.1); no face, or a face
// with no emotion entry, is "none" (wrong in the accuracy), as in eval-emotion.
// Prints the same table as eval-emotion (accuracy, balanced accuracy, per-class recall, faces
// not found) and writes DIR/human-predictions.csv. Models come from $FACEGRAPH_MODELS or
// ${XDG_CACHE_HOME:-~/.cache}/facegraph/models through file:// URLs; nothing is downloaded.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PNG } from 'pngjs';

const require = createRequire(import.meta.url);

function arg(name, def) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}
const FRAMES = process.argv[2];
if (!FRAMES || FRAMES.startsWith('--') || !fs.existsSync(FRAMES)) {
  console.error('usage: node eval-human-emotion.mjs FRAMES_DIR [--backend wasm|cpu] [--out DIR] [--limit N]');
  process.exit(2);
}
const BACKEND = arg('--backend', 'wasm');
const OUT = arg('--out', 'out/eval-emotion');
const LIMIT = Number(arg('--limit', '0'));

function modelsDir() {
  if (process.env.FACEGRAPH_MODELS) return process.env.FACEGRAPH_MODELS;
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'facegraph', 'models');
}

// No network: file:// URLs are answered from disk, anything else is refused.
globalThis.fetch = async (url) => {
  const u = String(url);
  if (!u.startsWith('file://')) throw new Error(`network access refused: ${u}`);
  const buf = fs.readFileSync(fileURLToPath(u));
  return new Response(buf, { status: 200, headers: { 'content-type': u.endsWith('.json') ? 'application/json' : 'application/octet-stream' } });
};

const core = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const humanDir = path.resolve(path.dirname(require.resolve('@vladmandic/human')), '..');
const { Human } = require(path.join(humanDir, 'dist/human.node-wasm.js'));
const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));

const CLASSES = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];
const NONE = CLASSES.length;

const config = {
  backend: BACKEND,
  modelBasePath: `${pathToFileURL(modelsDir()).href}/`,
  wasmPath: `${wasmDir}${path.sep}`,
  wasmPlatformFetch: false,
  debug: false,
  async: false,
  warmup: 'none',
  cacheSensitivity: 0,
  skipAllowed: false,
  filter: { enabled: false },
  gesture: { enabled: false },
  face: {
    enabled: true,
    detector: { modelPath: 'blazeface.json', skipFrames: 0, skipTime: 0 },
    mesh: { enabled: true, modelPath: 'facemesh.json' },
    iris: { enabled: false },
    emotion: { enabled: true, modelPath: 'emotion.json', skipFrames: 0, skipTime: 0 },
    attention: { enabled: false },
    description: { enabled: false },
    antispoof: { enabled: false },
    liveness: { enabled: false },
    gear: { enabled: false },
    ssrnet: { enabled: false },
    mobilefacenet: { enabled: false },
    insightface: { enabled: false },
  },
  body: { enabled: false },
  hand: { enabled: false },
  object: { enabled: false },
  segmentation: { enabled: false },
};

function readPng(file) {
  const png = PNG.sync.read(fs.readFileSync(file));
  const { width: w, height: h } = png;
  const rgb = new Float32Array(w * h * 3);
  for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = png.data[i * 4 + c];
  return { w, h, rgb };
}

const items = [];
for (const cls of fs.readdirSync(FRAMES).sort()) {
  const t = CLASSES.indexOf(cls.toLowerCase());
  if (t < 0) { console.error(`${path.join(FRAMES, cls)}: not a class name (${CLASSES.join(', ')})`); process.exit(2); }
  for (const f of fs.readdirSync(path.join(FRAMES, cls)).sort()) if (f.endsWith('.png')) items.push({ file: path.join(FRAMES, cls, f), truth: t });
}
let list = items;
if (LIMIT > 0 && items.length > LIMIT) list = Array.from({ length: LIMIT }, (_, i) => items[Math.floor(i * items.length / LIMIT)]);

const human = new Human(config);
await human.init();
await human.load();
await human.tf.ready();
if (human.tf.getBackend() !== BACKEND) throw new Error(`backend ${BACKEND} requested, got ${human.tf.getBackend()}`);

const confusion = CLASSES.map(() => new Array(CLASSES.length + 1).fill(0));
const rows = ['path,truth,human'];
const t0 = Date.now();
for (let i = 0; i < list.length; i++) {
  const { file, truth } = list[i];
  const img = readPng(file);
  const input = core.tensor4d(img.rgb, [1, img.h, img.w, 3], 'float32');
  const res = await human.detect(input, config);
  input.dispose();
  if (res.error) throw new Error(`${file}: ${res.error}`);
  const top = res.face[0]?.emotion?.[0]?.emotion;
  const ans = top ? CLASSES.indexOf(top) : NONE;
  confusion[truth][ans < 0 ? NONE : ans]++;
  rows.push(`${file},${CLASSES[truth]},${ans === NONE ? 'none' : CLASSES[ans]}`);
  if ((i + 1) % 100 === 0 || i + 1 === list.length) process.stderr.write(`[${i + 1}/${list.length}] ${((i + 1) * 1000 / (Date.now() - t0)).toFixed(1)} images/s\n`);
}

const total = (r) => r.reduce((a, b) => a + b, 0);
const n = confusion.reduce((a, r) => a + total(r), 0);
const ok = confusion.reduce((a, r, t) => a + r[t], 0);
const present = confusion.map((r, t) => [t, total(r)]).filter(([, k]) => k > 0);
const balanced = present.reduce((a, [t, k]) => a + confusion[t][t] / k, 0) / present.length;
const none = confusion.reduce((a, r) => a + r[NONE], 0);
let out = `frames: ${FRAMES}\nimages: ${n}\npeer: @vladmandic/human ${human.version} (${BACKEND}), default face settings\n\n`;
out += `| | Human 3.3.6 |\n|---|---|\n| accuracy | ${(ok / n).toFixed(3)} |\n| balanced accuracy | ${balanced.toFixed(3)} |\n`;
out += `| faces not found | ${none} (${(none / n).toFixed(3)}) |\n`;
for (let t = 0; t < CLASSES.length; t++) {
  const k = total(confusion[t]);
  out += `| recall ${CLASSES[t]} (N=${k}) | ${k ? (confusion[t][t] / k).toFixed(3) : '-'} |\n`;
}
process.stdout.write(out);
fs.mkdirSync(OUT, { recursive: true });
fs.writeFileSync(path.join(OUT, 'human-predictions.csv'), `${rows.join('\n')}\n`);
fs.writeFileSync(path.join(OUT, 'human-summary.md'), out);
