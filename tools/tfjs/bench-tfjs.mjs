#!/usr/bin/env node
// Peer benchmark for facegraph's native NN runtime: the six Human 3.3.6 graph models on
// TensorFlow.js's WebAssembly backend (XNNPACK inside, single thread) and on its pure-JS 'cpu'
// backend, batch 1 at each model's native input size, after warm-up. Prints per model the median
// and p99 latency of one model.execute() plus reading back all outputs (dataSync), in ms.
//
//   node bench-tfjs.mjs [--backends wasm,cpu] [--models a,b] [--warmup N] [--min-iters N]
//                       [--max-iters N] [--seconds S] [--json]
//
// Models are read from $FACEGRAPH_MODELS or ~/.cache/facegraph/models (tools/fetch-models).
import path from 'node:path';
import os from 'node:os';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs';
import * as wasm from '@tensorflow/tfjs-backend-wasm';
import { MODELS, loadModel, inputShape, xorshiftFill, RANDOM_SEED } from './lib.mjs';

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}
const backends = arg('--backends', 'wasm,cpu').split(',');
const models = arg('--models', MODELS.join(',')).split(',');
const warmup = Number(arg('--warmup', 10));
const minIters = Number(arg('--min-iters', 30));
const maxIters = Number(arg('--max-iters', 1000));
const seconds = Number(arg('--seconds', 3)); // timed budget per model and backend
const asJson = process.argv.includes('--json');

const require = createRequire(import.meta.url);
const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));

function quantile(sorted, q) { // nearest rank
  const k = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[k];
}

async function useBackend(name) {
  if (name === 'wasm') {
    wasm.setWasmPaths(`${wasmDir}${path.sep}`);
    wasm.setThreadsCount(1); // Node has no threaded wasm in tfjs 4.22 anyway (WASM_HAS_MULTITHREAD_SUPPORT is false under IS_NODE)
  }
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} failed to initialise`);
  await tf.ready();
  const info = { backend: name };
  if (name === 'wasm') {
    info.threads = wasm.getThreadsCount();
    info.simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    info.multithread = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  }
  return info;
}

async function main() {
  const results = [];
  const backendInfo = [];
  for (const be of backends) {
    backendInfo.push(await useBackend(be));
    for (const name of models) {
      const { model } = await loadModel(name);
      const shape = inputShape(model);
      const x = tf.tensor4d(xorshiftFill(shape.reduce((a, b) => a * b, 1), RANDOM_SEED), shape, 'float32');
      const names = model.outputs.map((o) => o.name);
      const once = () => {
        let res = model.execute(x, names);
        if (!Array.isArray(res)) res = [res];
        for (const r of res) r.dataSync();
        tf.dispose(res);
      };
      for (let i = 0; i < warmup; i++) once();
      const times = [];
      const t0 = performance.now();
      while (times.length < maxIters && (times.length < minIters || performance.now() - t0 < seconds * 1000)) {
        const s = performance.now();
        once();
        times.push(performance.now() - s);
      }
      times.sort((a, b) => a - b);
      results.push({
        backend: be,
        model: name,
        input: shape,
        iters: times.length,
        median_ms: quantile(times, 0.5),
        p99_ms: quantile(times, 0.99),
        min_ms: times[0],
      });
      tf.dispose(x);
      model.dispose();
    }
  }
  const meta = {
    tfjs_version: tf.version.tfjs,
    node: process.version,
    cpu: os.cpus()[0]?.model,
    cores: os.cpus().length,
    warmup,
    backends: backendInfo,
    timing: 'model.execute + dataSync of every output, batch 1, seeded xorshift32 input',
  };
  if (asJson) {
    console.log(JSON.stringify({ ...meta, results }, null, 2));
    return;
  }
  console.log(`tfjs ${meta.tfjs_version}, node ${meta.node}, ${meta.cpu} (${meta.cores} cores), warm-up ${warmup}`);
  for (const b of backendInfo) console.log(`  ${JSON.stringify(b)}`);
  const rows = [['model', 'input', ...backends.flatMap((b) => [`${b} median`, `${b} p99`, `${b} n`])]];
  for (const name of models) {
    const r = results.filter((e) => e.model === name);
    rows.push([name, r[0].input.slice(1).join('x'),
      ...backends.flatMap((b) => {
        const e = r.find((q) => q.backend === b);
        return [e.median_ms.toFixed(2), e.p99_ms.toFixed(2), String(e.iters)];
      })]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const line = (row) => `| ${row.map((v, c) => (c < 2 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join(' | ')} |`;
  console.log(line(rows[0]));
  console.log(`|${widths.map((w, c) => (c < 2 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const row of rows.slice(1)) console.log(line(row));
  console.log('latency in ms (median and p99 by nearest rank over n timed runs)');
}

main().catch((e) => { console.error(e); process.exit(1); });
