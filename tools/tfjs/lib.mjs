// Shared helpers for make-references.mjs and bench-tfjs.mjs: model cache lookup, loading a
// TF.js graph model from local files (no network, no tfjs-node), and the seeded input.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import * as tf from '@tensorflow/tfjs';

// The six models of @vladmandic/human 3.3.6 that facegraph runs natively.
export const MODELS = ['blazeface', 'facemesh', 'iris', 'emotion', 'antispoof', 'liveness'];

// Same default as tools/fetch-models. The models are never downloaded here.
export function modelsDir() {
  if (process.env.FACEGRAPH_MODELS) return process.env.FACEGRAPH_MODELS;
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'facegraph', 'models');
}

export function sha256(file) {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

// Loads <dir>/<name>.json and its weight shards through an in-memory IOHandler.
export async function loadModel(name, dir = modelsDir()) {
  const jsonPath = path.join(dir, `${name}.json`);
  if (!fs.existsSync(jsonPath)) {
    throw new Error(`model ${jsonPath} not found; run tools/fetch-models (or set FACEGRAPH_MODELS)`);
  }
  const json = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
  const weightSpecs = [];
  const buffers = [];
  const files = [jsonPath];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) {
      const f = path.join(dir, path.basename(p));
      files.push(f);
      buffers.push(fs.readFileSync(f));
    }
  }
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const handler = {
    load: async () => ({
      modelTopology: json.modelTopology,
      format: json.format,
      generatedBy: json.generatedBy,
      convertedBy: json.convertedBy,
      signature: json.signature,
      userDefinedMetadata: json.userDefinedMetadata,
      modelInitializer: json.modelInitializer,
      weightSpecs,
      weightData,
    }),
  };
  const model = await tf.loadGraphModel(handler);
  return { model, json, files };
}

// Input shape [1, H, W, C] of the model's single input (batch -1 in the file is taken as 1).
export function inputShape(model) {
  const s = model.inputs[0].shape;
  return [1, s[1], s[2], s[3]];
}

// xorshift32 (Marsaglia): state ^= state << 13; state ^= state >>> 17; state ^= state << 5, all
// on uint32. The state is stepped BEFORE each value is taken; the seed itself is never used as a
// value. value = ((state >>> 8) / 16777216) * 2 - 1, exact in float32, in [-1, 1).
export function xorshiftFill(n, seed) {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  if (s === 0) throw new Error('xorshift32 seed must be non-zero');
  for (let i = 0; i < n; i++) {
    s = (s ^ (s << 13)) >>> 0;
    s = (s ^ (s >>> 17)) >>> 0;
    s = (s ^ (s << 5)) >>> 0;
    out[i] = ((s >>> 8) / 16777216) * 2 - 1;
  }
  return out;
}

export const RANDOM_SEED = 0x2545f491; // 625341585
