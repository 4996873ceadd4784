// Writes tests/data/tracking/<case>.json: what the real @vladmandic/human 3.3.6 face pipeline
// (BlazeFace detector -> FaceMesh 468 landmarks) finds on a few still images, run in Node with
// Human's own dist build `dist/human.node-wasm.js` (no tfjs-node).
//
//   node make-tracking-references.mjs [--backend cpu|wasm] [--out DIR] [--image PNG]
//                                     [--cases a,b] [--iris] [--compare-backend wasm|cpu]
//
// --backend          tfjs backend Human runs on (default cpu: the pure-JS kernels, the same on
//                    every machine; wasm is XNNPACK/SIMD, single thread)
// --iris             also run with face.iris enabled (478 points) into <case>.iris.json
// --compare-backend  run the other backend too and print the largest differences (writes nothing
//                    for it)
//
// Models come from $FACEGRAPH_MODELS or ${XDG_CACHE_HOME:-~/.cache}/facegraph/models (filled by
// tools/fetch-models) through a file:// modelBasePath; global fetch is replaced by a reader that
// only serves file:// URLs, so nothing is downloaded.
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

function arg(name, def) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}
const flag = (name) => process.argv.includes(name);

const BACKEND = arg('--backend', 'cpu');
const OUT = path.resolve(arg('--out', path.join(repoRoot, 'tests', 'data', 'tracking')));
const IMAGE = arg('--image', '/usr/lib/python3/dist-packages/imageio/resources/images/astronaut.png');
const ONLY = arg('--cases', '');
const IRIS = flag('--iris');
const COMPARE = arg('--compare-backend', '');

function modelsDir() {
  if (process.env.FACEGRAPH_MODELS) return process.env.FACEGRAPH_MODELS;
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'facegraph', 'models');
}
const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

// ---------------------------------------------------------------------------------------------
// No network: tfjs' HTTP IO handler (used by Human's loadModel through its fetchFunc, which calls
// the global fetch) gets file:// URLs answered from disk and nothing else.
const realFetch = globalThis.fetch;
globalThis.fetch = async (url, init) => {
  const u = String(url);
  if (!u.startsWith('file://')) throw new Error(`network access refused: ${u}`);
  const buf = fs.readFileSync(fileURLToPath(u));
  return new Response(buf, { status: 200, headers: { 'content-type': u.endsWith('.json') ? 'application/json' : 'application/octet-stream' } });
};
void realFetch;

// Human's node-wasm build requires @tensorflow/tfjs-core, -converter and -backend-wasm (CommonJS).
// Requiring -backend-cpu from the same node_modules registers `cpu` on that same tfjs-core.
const core = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const converter = require('@tensorflow/tfjs-converter');
// The package's "exports" keys lack the leading "./", so Node exports no subpath: load the dist
// file by its path inside the package (found from the package's main entry, not loaded).
const HUMAN_DIST = 'dist/human.node-wasm.js';
const humanDir = path.resolve(path.dirname(require.resolve('@vladmandic/human')), '..');
const { Human } = require(path.join(humanDir, HUMAN_DIST));
const humanPkg = JSON.parse(fs.readFileSync(path.join(humanDir, 'package.json'), 'utf8'));
const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));

// ---------------------------------------------------------------------------------------------
// Taps on the tf calls Human makes, to record the intermediate results Human does not return.
// They only read tensors; every call goes through to tfjs unchanged.
const tap = { nms: [], crops: [], mesh: [] };
const origNms = core.image.nonMaxSuppressionAsync;
core.image.nonMaxSuppressionAsync = async (boxes, scores, ...rest) => {
  const res = await origNms(boxes, scores, ...rest);
  const idx = Array.from(await res.data());
  const b = await boxes.array();
  const s = await scores.data();
  tap.nms.push({ args: rest, selected: idx.map((i) => ({ index: i, box: b[i], score: s[i] })) });
  return res;
};
const origCrop = core.image.cropAndResize;
core.image.cropAndResize = (image, boxes, boxInd, cropSize, ...rest) => {
  const bx = Array.isArray(boxes) ? boxes : boxes.arraySync();
  tap.crops.push({ imageShape: image.shape.slice(), boxes: bx.map((r) => r.slice()), cropSize: cropSize.slice(), rest });
  return origCrop(image, boxes, boxInd, cropSize, ...rest);
};
const origExecute = converter.GraphModel.prototype.execute;
converter.GraphModel.prototype.execute = function execute(inputs, outputs) {
  const res = origExecute.call(this, inputs, outputs);
  const list = Array.isArray(res) ? res : [res];
  const meshT = list.find((t) => t.shape[t.shape.length - 1] === 1404);
  if (meshT) {
    const flagT = list.find((t) => t.shape[t.shape.length - 1] === 1);
    tap.mesh.push({ mesh: Array.from(meshT.dataSync()), faceflag: flagT ? flagT.dataSync()[0] : null });
  }
  return res;
};

// ---------------------------------------------------------------------------------------------
// Images. All pixel arithmetic is integer and stated in `recipe` so C++ rebuilds the same bytes.
function readPng(file) {
  const buf = fs.readFileSync(file);
  const png = PNG.sync.read(buf);
  if (png.depth !== 8 || png.colorType !== 2) throw new Error(`${file}: expected 8-bit RGB, got depth ${png.depth} colorType ${png.colorType}`);
  const { width: w, height: h } = png;
  const rgb = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = png.data[i * 4 + c];
  return { w, h, rgb, sha256: sha256(buf) };
}
const blank = (w, h) => ({ w, h, rgb: new Uint8Array(w * h * 3) });
function paste(dst, src, ox, oy) {
  for (let y = 0; y < src.h; y++) for (let x = 0; x < src.w; x++) for (let c = 0; c < 3; c++) {
    dst.rgb[((y + oy) * dst.w + (x + ox)) * 3 + c] = src.rgb[(y * src.w + x) * 3 + c];
  }
  return dst;
}
function flipH(src) {
  const dst = blank(src.w, src.h);
  for (let y = 0; y < src.h; y++) for (let x = 0; x < src.w; x++) for (let c = 0; c < 3; c++) {
    dst.rgb[(y * dst.w + x) * 3 + c] = src.rgb[(y * src.w + (src.w - 1 - x)) * 3 + c];
  }
  return dst;
}
function half(src) {
  const dst = blank(src.w >> 1, src.h >> 1);
  const p = (x, y, c) => src.rgb[(y * src.w + x) * 3 + c];
  for (let y = 0; y < dst.h; y++) for (let x = 0; x < dst.w; x++) for (let c = 0; c < 3; c++) {
    dst.rgb[(y * dst.w + x) * 3 + c] = (p(2 * x, 2 * y, c) + p(2 * x + 1, 2 * y, c) + p(2 * x, 2 * y + 1, c) + p(2 * x + 1, 2 * y + 1, c) + 2) >> 2;
  }
  return dst;
}
function gradient(w, h) {
  const dst = blank(w, h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = (y * w + x) * 3;
    dst.rgb[i] = Math.floor((x * 255) / (w - 1));
    dst.rgb[i + 1] = Math.floor((y * 255) / (h - 1));
    dst.rgb[i + 2] = 128;
  }
  return dst;
}

const photo = readPng(IMAGE);
const source = { file: path.basename(IMAGE), path: IMAGE, sha256: photo.sha256, size: [photo.w, photo.h],
  note: 'Debian python3-imageio; 8-bit RGB PNG, decoded losslessly (pngjs 7.0.0)' };
const CASES = [
  { name: 'astronaut', expect_faces: 1, make: () => photo,
    recipe: { source: 'astronaut.png', steps: ['as is'] } },
  { name: 'astronaut_wide', expect_faces: 1, make: () => paste(blank(640, 512), photo, 64, 0),
    recipe: { source: 'astronaut.png', steps: ['canvas 640x512 filled with (0,0,0)', 'paste the photo with its top-left at x=64, y=0'] } },
  { name: 'astronaut_small', expect_faces: 1, make: () => paste(blank(640, 480), half(photo), 192, 112),
    recipe: { source: 'astronaut.png', steps: [
      'downscale by 2: out(x,y,c) = (in(2x,2y,c) + in(2x+1,2y,c) + in(2x,2y+1,c) + in(2x+1,2y+1,c) + 2) >> 2, 256x256',
      'canvas 640x480 filled with (0,0,0)', 'paste the 256x256 image with its top-left at x=192, y=112'] } },
  { name: 'astronaut_flip', expect_faces: 1, make: () => flipH(photo),
    recipe: { source: 'astronaut.png', steps: ['mirror horizontally: out(x,y) = in(W-1-x, y)'] } },
  { name: 'no_face', make: () => gradient(320, 240), expect_faces: 0,
    recipe: { source: null, steps: ['320x240: R = floor(x*255/319), G = floor(y*255/239), B = 128 (integer division)'] } },
].filter((c) => !ONLY || ONLY.split(',').includes(c.name));

// ---------------------------------------------------------------------------------------------
// Human configuration: face detector + face mesh only, no caching/skipping between calls.
const MODELS = modelsDir();
function humanConfig(backend, iris) {
  return {
    backend,
    modelBasePath: `${pathToFileURL(MODELS).href}/`,
    wasmPath: `${wasmDir}${path.sep}`,
    wasmPlatformFetch: false,
    cacheModels: false,
    validateModels: true,
    debug: false,
    async: false,
    warmup: 'none',
    cacheSensitivity: 0,
    skipAllowed: false,
    deallocate: false,
    softwareKernels: false,
    filter: { enabled: false, equalization: false, flip: false, autoBrightness: false, return: false },
    gesture: { enabled: false },
    face: {
      enabled: true,
      detector: { modelPath: 'blazeface.json', rotation: false, square: false, maxDetected: 4, skipFrames: 0, skipTime: 0,
        minConfidence: 0.2, minSize: 0, iouThreshold: 0.1, scale: 1.4, mask: false, return: false },
      mesh: { enabled: true, modelPath: 'facemesh.json', keepInvalid: false },
      attention: { enabled: false },
      iris: { enabled: iris, modelPath: 'iris.json', scale: 2.3 },
      emotion: { enabled: false },
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
}

// Human's facemeshutil.ts helpers, restated to rebuild the mesh without Math.trunc.
const getBoxSize = (b) => [Math.abs(b.endPoint[0] - b.startPoint[0]), Math.abs(b.endPoint[1] - b.startPoint[1])];
const getBoxCenter = (b) => [b.startPoint[0] + (b.endPoint[0] - b.startPoint[0]) / 2, b.startPoint[1] + (b.endPoint[1] - b.startPoint[1]) / 2];

async function runCase(human, c, img) {
  tap.nms.length = 0; tap.crops.length = 0; tap.mesh.length = 0;
  human.reset(); // config back to defaults, image cache cleared, env.initial = true
  const cfg = humanConfig(human.config.backend, human.__iris);
  const input = core.tensor4d(Float32Array.from(img.rgb), [1, img.h, img.w, 3], 'float32');
  const res = await human.detect(input, cfg);
  input.dispose();
  if (res.error) throw new Error(`${c.name}: ${res.error}`);
  const crops = tap.crops.filter((k) => k.imageShape[1] === img.h && k.imageShape[2] === img.w);
  const detections = (tap.nms[0]?.selected || []).map((d) => ({
    anchor_index: d.index,
    box_256: d.box, // [x1, y1, x2, y2] in the 256x256 detector input (whole frame stretched, no padding)
    score: d.score,
  }));
  const faces = res.face.map((f, i) => {
    const crop = crops[i];
    let cropBox = null;
    let meshFloat = null;
    if (crop) {
      const [y1, x1, y2, x2] = crop.boxes[0];
      const box = { startPoint: [Math.round(x1 * img.w), Math.round(y1 * img.h)], endPoint: [Math.round(x2 * img.w), Math.round(y2 * img.h)] };
      cropBox = { normalized_y1x1y2x2: crop.boxes[0], pixels_x1y1x2y2: [...box.startPoint, ...box.endPoint], crop_size: crop.cropSize };
      const raw = tap.mesh[i]?.mesh;
      if (raw && !human.__iris) {
        const size = getBoxSize(box);
        const center = getBoxCenter(box);
        const n = crop.cropSize[0];
        meshFloat = [];
        for (let k = 0; k < 468; k++) {
          meshFloat.push([size[0] / n * (raw[3 * k] - n / 2) + center[0], size[1] / n * (raw[3 * k + 1] - n / 2) + center[1], raw[3 * k + 2]]);
        }
        // must reproduce Human's truncated mesh exactly (rotation off, so no rotation matrix)
        for (let k = 0; k < 468; k++) for (let d = 0; d < 3; d++) {
          if (Math.trunc(meshFloat[k][d]) !== f.mesh[k][d]) throw new Error(`${c.name}: mesh_float does not reproduce face.mesh at ${k},${d}`);
        }
      }
    }
    return {
      id: f.id,
      box: f.box,
      boxRaw: f.boxRaw,
      size: f.size,
      score: f.score,
      faceScore: f.faceScore,
      boxScore: f.boxScore,
      faceflag: tap.mesh[i]?.faceflag ?? null,
      rotation: f.rotation ? { angle: f.rotation.angle, matrix: f.rotation.matrix, gaze: f.rotation.gaze } : null,
      crop: cropBox,
      mesh: f.mesh,
      mesh_float: meshFloat,
      mesh_model_raw: human.__iris ? null : (tap.mesh[i]?.mesh ?? null),
    };
  });
  return { detections, faces, config: JSON.parse(JSON.stringify(human.config)) };
}

async function makeHuman(backend, iris) {
  const human = new Human(humanConfig(backend, iris));
  human.__iris = iris;
  await human.init(); // backend.check(force): sets the backend even when an earlier instance set another
  await human.load();
  await human.tf.ready();
  if (human.tf.getBackend() !== backend) throw new Error(`backend ${backend} requested, got ${human.tf.getBackend()}`);
  if (human.tf !== core && human.tf.engine() !== core.engine()) throw new Error('Human uses a different tfjs-core instance than the taps');
  return human;
}

function scrubConfig(cfg) {
  const out = JSON.parse(JSON.stringify(cfg));
  out.modelBasePath = 'file://$FACEGRAPH_MODELS/';
  out.wasmPath = '<node_modules>/@tensorflow/tfjs-backend-wasm/dist/';
  return out;
}

function modelFiles(iris) {
  const out = {};
  for (const m of ['blazeface', 'facemesh', ...(iris ? ['iris'] : [])]) {
    for (const e of ['json', 'bin']) out[`${m}.${e}`] = sha256(fs.readFileSync(path.join(MODELS, `${m}.${e}`)));
  }
  return out;
}

async function runAll(backend, iris) {
  const human = await makeHuman(backend, iris);
  const results = {};
  for (const c of CASES) {
    const img = c.make();
    const t0 = performance.now();
    results[c.name] = { img, ...(await runCase(human, c, img)), ms: performance.now() - t0 };
  }
  return { human, results };
}

// Indented JSON with every innermost array of numbers on one line (a point, a box, a row).
const compactJson = (doc) => JSON.stringify(doc, null, 1)
  .replace(/\[[-0-9.e+,\s]*\]/g, (m) => m.replace(/\s+/g, '').replace(/,/g, ', '));

fs.mkdirSync(OUT, { recursive: true });
const variants = [false, ...(IRIS ? [true] : [])];
for (const iris of variants) {
  const { human, results } = await runAll(BACKEND, iris);
  const backendInfo = { name: human.tf.getBackend() };
  if (BACKEND === 'wasm') {
    backendInfo.simd = await core.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    backendInfo.multithread = await core.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  }
  for (const c of CASES) {
    const r = results[c.name];
    if (c.expect_faces !== undefined && r.faces.length !== c.expect_faces) throw new Error(`${c.name}: expected ${c.expect_faces} faces, got ${r.faces.length}`);
    const doc = {
      format: 'facegraph-tracking-reference/1',
      case: c.name,
      generator: 'tools/tfjs/make-tracking-references.mjs',
      human: { package: '@vladmandic/human', version: human.version, package_version: humanPkg.version, dist: HUMAN_DIST },
      tfjs_core_version: core.version_core,
      backend: backendInfo,
      model_files: modelFiles(iris),
      image: {
        width: r.img.w, height: r.img.h, channels: 3, layout: 'HWC RGB uint8, row-major',
        rgb_sha256: sha256(r.img.rgb),
        source: c.recipe.source ? source : null,
        recipe: c.recipe.steps,
        human_input: 'tf.tensor4d float32 [1,H,W,3] holding the 0..255 byte values (Human image.ts process(): a 4-D 3-channel tensor is cloned as is, int32 would be cast to float32; no filters, no resize)',
      },
      iris: iris,
      human_config: scrubConfig(r.config),
      detector: {
        note: 'BlazeFace candidates kept by NMS (tapped from tf.image.nonMaxSuppressionAsync): box_256 = [x1,y1,x2,y2] in the 256x256 detector input, which is the whole frame resized by resizeBilinear (aspect not kept, detector.square false); score = sigmoid(logit)',
        detections: r.detections,
      },
      conventions: {
        box: 'face.box = [x, y, w, h] integer image pixels (Math.trunc, clamped to the frame), from the box recomputed around the mesh (calculateFaceBox: mesh bbox centre, crop box size)',
        boxRaw: 'face.boxRaw = the same unclamped box divided by the image width/height',
        mesh: 'face.mesh = 468 x [x, y, z]: x, y image pixels, z = the model z output in 192-crop units (not rescaled), each coordinate Math.trunc()-ed by Human',
        mesh_float: 'the same points without Math.trunc, recomputed from mesh_model_raw and crop.pixels_x1y1x2y2 (checked to truncate to face.mesh exactly)',
        mesh_model_raw: 'facemesh output_mesh (1404 floats) for the 192x192 crop, in crop pixels',
        crop: 'the crop Human cut for facemesh: tf.image.cropAndResize box [y1,x1,y2,x2] normalized by the image size, i.e. the detector box enlarged by 1.4 and squared (integer pixels), crop_size [192,192], bilinear, then /255',
      },
      faces: r.faces,
    };
    const file = path.join(OUT, `${c.name}${iris ? '.iris' : ''}.json`);
    fs.writeFileSync(file, `${compactJson(doc)}\n`);
    const f = r.faces.map((x) => `box [${x.box}] score ${x.score} faceScore ${x.faceScore} boxScore ${x.boxScore} crop [${x.crop?.pixels_x1y1x2y2}]`);
    console.log(`${path.relative(repoRoot, file)}: ${r.img.w}x${r.img.h} ${r.faces.length} face(s) ${r.ms.toFixed(0)} ms ${f.join('; ')}`);
  }
  if (COMPARE && !iris) {
    const other = await runAll(COMPARE, false);
    for (const c of CASES) {
      const a = results[c.name].faces;
      const b = other.results[c.name].faces;
      if (a.length !== b.length) { console.log(`${c.name}: ${BACKEND} ${a.length} faces, ${COMPARE} ${b.length}`); continue; }
      let dMesh = 0;
      let dBox = 0;
      for (let i = 0; i < a.length; i++) {
        for (let k = 0; k < 468; k++) for (let d = 0; d < 2; d++) dMesh = Math.max(dMesh, Math.abs(a[i].mesh_float[k][d] - b[i].mesh_float[k][d]));
        for (let d = 0; d < 4; d++) dBox = Math.max(dBox, Math.abs(a[i].boxRaw[d] - b[i].boxRaw[d]));
      }
      console.log(`${c.name}: ${BACKEND} vs ${COMPARE}: max |d mesh_float xy| ${dMesh.toExponential(3)} px, max |d boxRaw| ${dBox.toExponential(3)}`);
    }
  }
}
