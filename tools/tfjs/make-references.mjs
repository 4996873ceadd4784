#!/usr/bin/env node
// Writes tests/data/nn/<model>.json: reference outputs of the six Human 3.3.6 graph models,
// computed by TensorFlow.js on its pure-JS 'cpu' backend from fixed, exactly reproducible
// inputs. The file format and the input conventions are documented in README.md beside this
// file; the C++ NN runtime's tests rebuild the same float32 input tensors and compare.
//
//   node make-references.mjs [--out DIR] [--image PNG] [--models a,b,...]
//
// Models are read from $FACEGRAPH_MODELS or ~/.cache/facegraph/models (tools/fetch-models).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import * as tf from '@tensorflow/tfjs';
import { MODELS, modelsDir, loadModel, inputShape, xorshiftFill, RANDOM_SEED, sha256 } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}
const outDir = path.resolve(arg('--out', path.join(repo, 'tests', 'data', 'nn')));
const imagePath = arg('--image', '/usr/lib/python3/dist-packages/imageio/resources/images/astronaut.png');
const only = arg('--models', MODELS.join(',')).split(',');

const FORMAT = 'facegraph-nn-reference/1';
// Expected image: the public-domain NASA portrait of Eileen Collins shipped by python3-imageio
// (also skimage's data.astronaut()), 512x512 RGB 8-bit.
const ASTRONAUT_SHA256 = fs.existsSync(imagePath) ? sha256(imagePath) : null;

// Square crops of the 512x512 astronaut image, chosen by eye (see README.md):
//   face: the whole face, chin to hairline, roughly what Human's detector box (enlarged 1.4x and
//         squared) hands to facemesh; emotion/antispoof/liveness get that same face tensor in Human.
//   blazeface: a wider head-and-shoulders view, the face about 40% of the frame.
//   iris: the eye on the image's left (the subject's right eye), about 2.3x the corner-to-corner
//         width as in Human's iris.getEyeBox.
const FACE = { x0: 145, y0: 50, size: 160 };
const CROPS = {
  blazeface: { x0: 80, y0: 0, size: 288 },
  facemesh: FACE,
  iris: { x0: 180, y0: 77, size: 48 },
  emotion: FACE,
  antispoof: FACE,
  liveness: FACE,
};

// Per-model normalisation, as Human 3.3.6 does it (src/ paths in the npm package, see README.md).
// p is the 8-bit sample (0..255) converted to float32 (exact). fround() = round to float32; all
// named ops are single IEEE float32 operations (round-to-nearest-even) unless stated.
const NORMS = {
  pm1: {
    kind: 'div_sub',
    div: 127.5,
    sub: 1,
    formula: 'v = fround(fround(p / 127.5) - 1)',
    human: 'src/face/blazeface.ts getBoxes: tf.div(resized, constants.tf127) then tf.sub(.., constants.tf1); constants in src/tfjs/constants.ts',
  },
  unit: {
    kind: 'div',
    div: 255,
    formula: 'v = fround(p / 255)',
    human: 'src/face/facemeshutil.ts cutAndResize: tf.div(crop, constants.tf255); this face tensor feeds facemesh, iris (src/face/iris.ts getEyeBox crops it), emotion, antispoof and liveness (src/face/face.ts passes faces[i].tensor)',
  },
  gray: {
    kind: 'gray_pm1',
    div: 255,
    coefficients: [0.2989, 0.587, 0.114],
    sub: 0.5,
    mul: 2,
    formula: 'r,g,b = fround(p / 255) per channel; cR,cG,cB = fround(0.2989), fround(0.5870), fround(0.1140); '
      + 's = fround((double(fround(r*cR)) + double(fround(g*cG))) + double(fround(b*cB))) [sum in float64, '
      + 'left to right, one rounding to float32, as tfjs-backend-cpu Sum]; v = fround(fround(s - 0.5) * 2)',
    human: 'src/gear/emotion.ts predict (grayscale branch): tf.mul(resize, constants.rgb); tf.sum(.., 3, true); tf.sub(.., constants.tf05); tf.mul(.., constants.tf2); input is the [0,1] face tensor; constants.rgb in src/tfjs/constants.ts',
  },
};
const MODEL_NORM = { blazeface: 'pm1', facemesh: 'unit', iris: 'unit', emotion: 'gray', antispoof: 'unit', liveness: 'unit' };

function readImage(file) {
  const png = PNG.sync.read(fs.readFileSync(file));
  const { width, height, data } = png; // pngjs always returns RGBA 8-bit
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    rgb[i * 3] = data[i * 4]; rgb[i * 3 + 1] = data[i * 4 + 1]; rgb[i * 3 + 2] = data[i * 4 + 2];
  }
  return { width, height, rgb };
}

// Nearest-neighbour crop+resize with integer arithmetic. dst (i, j) (row i < H, column j < W)
// takes src (x = x0 + floor(j * size / W), y = y0 + floor(i * size / H)). Returns uint8 HxWx3.
function cropNearest(img, crop, H, W) {
  const { x0, y0, size } = crop;
  if (x0 < 0 || y0 < 0 || x0 + size > img.width || y0 + size > img.height) throw new Error('crop outside image');
  const out = new Uint8Array(H * W * 3);
  for (let i = 0; i < H; i++) {
    const y = y0 + Math.floor((i * size) / H);
    for (let j = 0; j < W; j++) {
      const x = x0 + Math.floor((j * size) / W);
      for (let c = 0; c < 3; c++) out[(i * W + j) * 3 + c] = img.rgb[(y * img.width + x) * 3 + c];
    }
  }
  return out;
}

const f = Math.fround;
// The documented scalar formulas.
function normalize(px, H, W, C, norm) {
  const n = H * W;
  const out = new Float32Array(n * C);
  if (norm === 'pm1') for (let k = 0; k < n * 3; k++) out[k] = f(f(px[k] / 127.5) - 1);
  else if (norm === 'unit') for (let k = 0; k < n * 3; k++) out[k] = f(px[k] / 255);
  else if (norm === 'gray') {
    if (C !== 1) throw new Error('gray needs C=1');
    const [cR, cG, cB] = [f(0.2989), f(0.5870), f(0.1140)];
    for (let k = 0; k < n; k++) {
      const r = f(px[k * 3] / 255); const g = f(px[k * 3 + 1] / 255); const b = f(px[k * 3 + 2] / 255);
      const s = f((f(r * cR) + f(g * cG)) + f(b * cB));
      out[k] = f(f(s - 0.5) * 2);
    }
  } else throw new Error(norm);
  return out;
}
// The same normalisation with Human's own tf ops, to prove the scalar formulas above are exact.
function normalizeHuman(px, H, W, norm) {
  return tf.tidy(() => {
    const x = tf.tensor4d(Float32Array.from(px), [1, H, W, 3], 'float32');
    if (norm === 'pm1') return tf.sub(tf.div(x, tf.scalar(127.5)), tf.scalar(1)).dataSync();
    const unit = tf.div(x, tf.scalar(255));
    if (norm === 'unit') return unit.dataSync();
    const ch = tf.mul(unit, tf.tensor1d([0.2989, 0.5870, 0.1140], 'float32'));
    const gray = tf.sum(ch, 3, true);
    return tf.mul(tf.sub(gray, tf.scalar(0.5)), tf.scalar(2)).dataSync();
  });
}

function checksum(a) {
  let sum = 0; let sumSq = 0;
  for (let k = 0; k < a.length; k++) { sum += a[k]; sumSq += a[k] * a[k]; }
  return { sum, sum_sq: sumSq };
}

function fmt(v) {
  if (!Number.isFinite(v)) throw new Error(`non-finite output ${v}`);
  const s = v.toPrecision(9);
  if (f(Number(s)) !== v) throw new Error(`${s} does not round-trip ${v}`);
  return s;
}

// Output order and names: the graph's output nodes as tfjs reports them (model.outputs), which
// follow the signature when the model has one (facemesh, antispoof, liveness: 'signature';
// blazeface, iris, emotion: userDefinedMetadata.signature). signature_key is the signature's
// key for that tensor where it differs from the tensor name (facemesh: output_mesh etc.).
function signatureKeys(json) {
  const sig = json.signature || json.userDefinedMetadata?.signature;
  const map = {};
  if (sig?.outputs) for (const [key, v] of Object.entries(sig.outputs)) map[v.name.replace(/:0$/, '')] = key.replace(/:0$/, '');
  return { sig, map };
}

async function runCase(model, input, shape) {
  const x = tf.tensor4d(input, shape, 'float32');
  const names = model.outputs.map((o) => o.name);
  let res = model.execute(x, names);
  if (!Array.isArray(res)) res = [res];
  const outs = [];
  for (let k = 0; k < res.length; k++) {
    const data = await res[k].data();
    outs.push({ name: names[k], shape: res[k].shape, data });
  }
  tf.dispose([x, ...res]);
  return outs;
}

async function main() {
  await tf.setBackend('cpu');
  await tf.ready();
  const dir = modelsDir();
  const img = readImage(imagePath);
  if (img.width !== 512 || img.height !== 512) throw new Error(`${imagePath}: expected 512x512`);
  fs.mkdirSync(outDir, { recursive: true });

  for (const name of only) {
    const { model, json, files } = await loadModel(name, dir);
    const shape = inputShape(model);
    const [, H, W, C] = shape;
    const { map: sigKeys } = signatureKeys(json);
    const inName = model.inputs[0].name;

    // case 1: astronaut crop
    const crop = CROPS[name];
    const norm = MODEL_NORM[name];
    const px = cropNearest(img, crop, H, W);
    const astro = normalize(px, H, W, C, norm);
    const viaTf = normalizeHuman(px, H, W, norm);
    let mismatches = 0;
    for (let k = 0; k < astro.length; k++) if (astro[k] !== viaTf[k]) mismatches++;
    if (mismatches) throw new Error(`${name}: scalar normalisation differs from Human's tf ops in ${mismatches} elements`);

    // case 2: seeded random
    const rnd = xorshiftFill(H * W * C, RANDOM_SEED);

    const cases = [];
    for (const [caseName, input, desc] of [
      ['astronaut', astro, {
        kind: 'image',
        image: 'astronaut.png',
        image_path: imagePath,
        image_sha256: ASTRONAUT_SHA256,
        image_size: [img.width, img.height],
        crop,
        resize: 'nearest: dst(i,j) = src(x0 + floor(j*size/W), y0 + floor(i*size/H)), integer arithmetic; i row < H, j column < W',
        normalization: { name: norm, ...NORMS[norm] },
      }],
      ['random', rnd, {
        kind: 'xorshift32',
        seed: RANDOM_SEED,
        formula: 'uint32 s = seed; for each element in NHWC row-major order: s ^= s << 13; s ^= s >> 17; s ^= s << 5; v = float32(((s >> 8) / 16777216.0) * 2 - 1)  (logical shifts; s is stepped before each value)',
        first_values: Array.from(rnd.slice(0, 4)),
      }],
    ]) {
      const outs = await runCase(model, input, shape);
      cases.push({ name: caseName, input: { ...desc, checksum: checksum(input) }, outputs: outs });
    }

    // JSON with values printed as float32 with 9 significant digits (round-trips through strtof).
    const values = [];
    const doc = {
      format: FORMAT,
      model: name,
      generator: 'tools/tfjs/make-references.mjs',
      tfjs_version: tf.version.tfjs,
      tfjs_core_version: tf.version['tfjs-core'],
      backend: tf.getBackend(),
      model_files: Object.fromEntries(files.map((p) => [path.basename(p), sha256(p)])),
      input: { name: inName, shape, dtype: 'float32', layout: 'NHWC' },
      cases: cases.map((c) => ({
        name: c.name,
        input: c.input,
        outputs: c.outputs.map((o) => {
          values.push(Array.from(o.data, fmt).join(','));
          const e = { name: o.name };
          if (sigKeys[o.name] && sigKeys[o.name] !== o.name) e.signature_key = sigKeys[o.name];
          e.shape = o.shape;
          e.values = `@@VALUES${values.length - 1}@@`;
          return e;
        }),
      })),
    };
    const text = JSON.stringify(doc, null, 2)
      .replace(/\[\s*([-+\d.e,\s]+?)\s*\]/g, (_, inner) => `[${inner.replace(/\s+/g, '')}]`)
      .replace(/"@@VALUES(\d+)@@"/g, (_, k) => `[${values[+k]}]`);
    JSON.parse(text); // sanity
    const out = path.join(outDir, `${name}.json`);
    fs.writeFileSync(out, `${text}\n`);
    const summary = cases.map((c) => `${c.name}: ${c.outputs.map((o) => `${o.name}[${o.shape}]`).join(' ')}`).join('; ');
    console.log(`${name}: wrote ${path.relative(process.cwd(), out)} (${fs.statSync(out).size} bytes) ${summary}`);
    model.dispose();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
