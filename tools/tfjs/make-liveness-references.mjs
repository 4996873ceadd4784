// Writes tests/data/liveness/<case>.json: what Human 3.3.6's own face pipeline (BlazeFace ->
// FaceMesh crop -> antispoof and liveness, its dist/human.node-wasm.js) gives on still images,
// with the crop it cut and the exact inputs it fed both models, so the C++ tests can check
// facegraph's liveness preprocessing (engine/liveness/liveness_classifier.h) against it.
//
//   node make-liveness-references.mjs [--backend cpu|wasm] [--out DIR] [--image PNG]
//
// How Human feeds the two models (src/face/antispoof.ts and liveness.ts, identical but for the
// model): face.tensor, the 192x192 FaceMesh input (tf.image.cropAndResize of the detector box
// enlarged 1.4x and squared, /255, unrotated with detector.rotation false), is resized with
// tf.image.resizeBilinear(face, [W, H], alignCorners=false) to the model's input (antispoof
// 128x128, liveness 32x32) and run; the first output value, rounded to 0.01, is face.real
// (antispoof) or face.live (liveness). This script taps GraphModel.execute to keep the
// unrounded value and the input tensor's checksum.
//
// Models come from $FACEGRAPH_MODELS or ~/.cache/facegraph/models; nothing is downloaded
// (global fetch only serves file:// URLs).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PNG } from 'pngjs';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');
const arg = (name, def) => { const i = process.argv.indexOf(name); return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def; };
const BACKEND = arg('--backend', 'cpu');
const OUT = path.resolve(arg('--out', path.join(repoRoot, 'tests', 'data', 'liveness')));
const IMAGE = arg('--image', '/usr/lib/python3/dist-packages/imageio/resources/images/astronaut.png');
const MODELS = process.env.FACEGRAPH_MODELS || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'facegraph', 'models');
const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

globalThis.fetch = async (url) => {
  const u = String(url);
  if (!u.startsWith('file://')) throw new Error(`network access refused: ${u}`);
  const buf = fs.readFileSync(fileURLToPath(u));
  return new Response(buf, { status: 200, headers: { 'content-type': u.endsWith('.json') ? 'application/json' : 'application/octet-stream' } });
};

const core = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const converter = require('@tensorflow/tfjs-converter');
const humanDir = path.resolve(path.dirname(require.resolve('@vladmandic/human')), '..');
const { Human } = require(path.join(humanDir, 'dist/human.node-wasm.js'));
const humanPkg = JSON.parse(fs.readFileSync(path.join(humanDir, 'package.json'), 'utf8'));
const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));

// Taps: the facemesh crop box and the two models' inputs and outputs (read only).
const tap = { crops: [], runs: [] };
const origCrop = core.image.cropAndResize;
core.image.cropAndResize = (image, boxes, boxInd, cropSize, ...rest) => {
  const bx = Array.isArray(boxes) ? boxes : boxes.arraySync();
  tap.crops.push({ imageShape: image.shape.slice(), boxes: bx.map((r) => r.slice()), cropSize: cropSize.slice() });
  return origCrop(image, boxes, boxInd, cropSize, ...rest);
};
const origExecute = converter.GraphModel.prototype.execute;
converter.GraphModel.prototype.execute = function execute(inputs, outputs) {
  const res = origExecute.call(this, inputs, outputs);
  const t = Array.isArray(inputs) ? inputs[0] : inputs;
  if (t && t.shape && t.shape.length === 4 && (t.shape[1] === 128 || t.shape[1] === 32) && t.shape[3] === 3) {
    const v = t.dataSync();
    let sum = 0; let sumSq = 0;
    for (const x of v) { sum += x; sumSq += x * x; }
    const out = (Array.isArray(res) ? res[0] : res).dataSync();
    tap.runs.push({ model: t.shape[1] === 128 ? 'antispoof' : 'liveness', input_shape: t.shape.slice(),
      input_checksum: { sum, sum_sq: sumSq }, input_first: Array.from(v.slice(0, 6)), output: Array.from(out) });
  }
  return res;
};

function readPng(file) {
  const png = PNG.sync.read(fs.readFileSync(file));
  const { width: w, height: h } = png;
  const rgb = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = png.data[i * 4 + c];
  return { w, h, rgb };
}
const blank = (w, h) => ({ w, h, rgb: new Uint8Array(w * h * 3) });
function flipH(src) {
  const dst = blank(src.w, src.h);
  for (let y = 0; y < src.h; y++) for (let x = 0; x < src.w; x++) for (let c = 0; c < 3; c++) dst.rgb[(y * dst.w + x) * 3 + c] = src.rgb[(y * src.w + (src.w - 1 - x)) * 3 + c];
  return dst;
}
function half(src) {
  const dst = blank(src.w >> 1, src.h >> 1);
  const p = (x, y, c) => src.rgb[(y * src.w + x) * 3 + c];
  for (let y = 0; y < dst.h; y++) for (let x = 0; x < dst.w; x++) for (let c = 0; c < 3; c++) dst.rgb[(y * dst.w + x) * 3 + c] = (p(2 * x, 2 * y, c) + p(2 * x + 1, 2 * y, c) + p(2 * x, 2 * y + 1, c) + p(2 * x + 1, 2 * y + 1, c) + 2) >> 2;
  return dst;
}
function paste(dst, src, ox, oy) {
  for (let y = 0; y < src.h; y++) for (let x = 0; x < src.w; x++) for (let c = 0; c < 3; c++) dst.rgb[((y + oy) * dst.w + (x + ox)) * 3 + c] = src.rgb[(y * src.w + x) * 3 + c];
  return dst;
}
const photo = readPng(IMAGE);
const CASES = [
  { name: 'astronaut', make: () => photo, recipe: ['as is'] },
  { name: 'astronaut_flip', make: () => flipH(photo), recipe: ['mirror horizontally'] },
  { name: 'astronaut_small', make: () => paste(blank(640, 480), half(photo), 192, 112),
    recipe: ['downscale by 2 (rounded 2x2 mean), pasted at x=192, y=112 on a black 640x480 canvas'] },
];

const config = {
  backend: BACKEND, modelBasePath: `${pathToFileURL(MODELS).href}/`, wasmPath: `${wasmDir}${path.sep}`,
  wasmPlatformFetch: false, cacheModels: false, validateModels: true, debug: false, async: false,
  warmup: 'none', cacheSensitivity: 0, skipAllowed: false, deallocate: false,
  filter: { enabled: false, equalization: false, flip: false, autoBrightness: false, return: false },
  gesture: { enabled: false },
  face: {
    enabled: true,
    detector: { modelPath: 'blazeface.json', rotation: false, maxDetected: 1, skipFrames: 0, skipTime: 0, minConfidence: 0.2, iouThreshold: 0.1, scale: 1.4, return: false },
    mesh: { enabled: true, modelPath: 'facemesh.json' }, attention: { enabled: false }, iris: { enabled: false },
    emotion: { enabled: false }, description: { enabled: false }, gear: { enabled: false }, ssrnet: { enabled: false },
    mobilefacenet: { enabled: false }, insightface: { enabled: false },
    antispoof: { enabled: true, modelPath: 'antispoof.json', skipFrames: 0, skipTime: 0 },
    liveness: { enabled: true, modelPath: 'liveness.json', skipFrames: 0, skipTime: 0 },
  },
  body: { enabled: false }, hand: { enabled: false }, object: { enabled: false }, segmentation: { enabled: false },
};

const human = new Human(config);
await human.init();
await human.load();
await human.tf.ready();
fs.mkdirSync(OUT, { recursive: true });
const modelFiles = {};
for (const m of ['blazeface', 'facemesh', 'antispoof', 'liveness']) for (const e of ['json', 'bin']) modelFiles[`${m}.${e}`] = sha256(fs.readFileSync(path.join(MODELS, `${m}.${e}`)));
for (const c of CASES) {
  tap.crops.length = 0; tap.runs.length = 0;
  human.reset();
  const img = c.make();
  const input = core.tensor4d(Float32Array.from(img.rgb), [1, img.h, img.w, 3], 'float32');
  const res = await human.detect(input, config);
  input.dispose();
  if (res.error) throw new Error(`${c.name}: ${res.error}`);
  if (res.face.length !== 1) throw new Error(`${c.name}: ${res.face.length} faces`);
  const f = res.face[0];
  const crop = tap.crops.find((k) => k.imageShape[1] === img.h && k.imageShape[2] === img.w && k.cropSize[0] === 192);
  const doc = {
    format: 'facegraph-liveness-reference/1', case: c.name, generator: 'tools/tfjs/make-liveness-references.mjs',
    human: { package: '@vladmandic/human', version: humanPkg.version }, backend: human.tf.getBackend(), model_files: modelFiles,
    image: { width: img.w, height: img.h, rgb_sha256: sha256(img.rgb), recipe: c.recipe, source: path.basename(IMAGE) },
    conventions: {
      crop: 'face.tensor: tf.image.cropAndResize(image, [[y1,x1,y2,x2]] normalised by the image size, crop 192x192, bilinear) / 255',
      model_input: 'tf.image.resizeBilinear(face.tensor, [N, N], alignCorners=false, halfPixelCenters=false): src = dst * 192 / N',
      output: 'the first output value; Human reports it rounded to 0.01 as face.real (antispoof) and face.live (liveness)',
    },
    crop: { normalized_y1x1y2x2: crop.boxes[0], crop_size: crop.cropSize },
    real: f.real, live: f.live,
    runs: tap.runs,
  };
  const file = path.join(OUT, `${c.name}.json`);
  fs.writeFileSync(file, `${JSON.stringify(doc, null, 1).replace(/\[[-0-9.e+,\s]*\]/g, (m) => m.replace(/\s+/g, '').replace(/,/g, ', '))}\n`);
  console.log(`${path.relative(repoRoot, file)}: real ${f.real} live ${f.live} runs ${tap.runs.map((r) => `${r.model}=${r.output[0]}`).join(' ')}`);
}
