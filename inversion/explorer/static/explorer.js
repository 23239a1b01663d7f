// The logit explorer: runs each inverter's generator (ONNX) in the browser and redraws its reconstruction
// whenever the logits or the noise change. Data come from data.js (EXPLORER_DATA) and models.js
// (EXPLORER_MODELS); the runtime from vendor/ (ONNX Runtime Web, loaded without fetch so that the page
// also works from disk). `window.explorer` holds the page's state, for the browser test and the console.
"use strict";

(function () {
  const D = window.EXPLORER_DATA;
  const state = {
    ready: false,
    error: null,
    image: 0, // index into D.images
    target: null, // interpolation target (index into D.images)
    interp: 0,
    noiseDraw: 0, // 0: noise 0; k > 0: the k-th resampled draw
    editDraws: 0, // how many "add noise" edits were drawn (seeds them)
    renders: 0, // completed redraws (every run's reconstruction updated)
    callsMs: [], // time of every generator call, in ms
    runs: [], // per run: {logits, base, noise} (Float32Array) and, after a redraw, the inputs it used
    idle: () => !busy && !dirty, // no redraw running or waiting
  };
  window.explorer = state;
  const sessions = [];
  let busy = false;
  let dirty = false;

  const $ = (id) => document.getElementById(id);
  const el = (tag, props = {}, children = []) => {
    const node = Object.assign(document.createElement(tag), props);
    for (const child of children) node.append(child);
    return node;
  };

  function bytes(base64) {
    const raw = atob(base64);
    const out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  // Seeded normal draws (mulberry32 + Box-Muller): the same seed gives the same noise on every reload.
  function normals(n, seed) {
    let a = seed >>> 0;
    const uniform = () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const out = new Float32Array(n);
    for (let i = 0; i < n; i += 2) {
      const r = Math.sqrt(-2 * Math.log(1 - uniform()));
      const theta = 2 * Math.PI * uniform();
      out[i] = r * Math.cos(theta);
      if (i + 1 < n) out[i + 1] = r * Math.sin(theta);
    }
    return out;
  }

  // The probabilities a run's sliders imply: the softmax of logits; outputs that are probabilities already
  // (softmax, top-k, rounded, label) as they are; exp of log-probabilities.
  function probabilities(r, z) {
    const output = D.runs[r].output;
    if (output === "logits") return softmax(z);
    if (output === "log_softmax") return Array.from(z, Math.exp);
    return Array.from(z, (v) => Math.min(1, Math.max(0, v)));
  }

  function softmax(z) {
    const m = Math.max(...z);
    const e = Array.from(z, (v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  }

  // An image in [-1, 1] (C, H, W), or uint8 (C, H, W), drawn into a canvas of H x W pixels.
  function draw(canvas, values, fromUnit) {
    const { channels: C, height: H, width: W } = D;
    canvas.width = W;
    canvas.height = H;
    const ctx = canvas.getContext("2d");
    const img = ctx.createImageData(W, H);
    for (let p = 0; p < H * W; p++) {
      for (let c = 0; c < 3; c++) {
        const v = values[(C === 1 ? 0 : c) * H * W + p];
        img.data[4 * p + c] = fromUnit ? Math.min(255, Math.max(0, Math.round((v + 1) * 127.5))) : v;
      }
      img.data[4 * p + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }

  function className(k) {
    return D.classes[k] ?? `class ${k}`;
  }

  // ------------------------------------------------------------------ rendering
  async function renderOnce() {
    for (let r = 0; r < D.runs.length; r++) {
      const run = state.runs[r];
      const spec = D.runs[r];
      const logits = Float32Array.from(run.logits);
      const noise = Float32Array.from(run.noise);
      const feeds = {
        noise: new ort.Tensor("float32", noise, [1, spec.dim_noise]),
        logits: new ort.Tensor("float32", logits, [1, logits.length]),
      };
      const start = performance.now();
      const output = await sessions[r].run(feeds);
      state.callsMs.push(performance.now() - start);
      draw($(`recon-${r}`), output.image.data, true);
      run.used = { logits: Array.from(logits), noise: Array.from(noise) };
      updatePanel(r);
    }
    state.renders += 1;
    const calls = state.callsMs.slice(-50).sort((a, b) => a - b);
    const median = calls[Math.floor(calls.length / 2)];
    $("timing").textContent =
      `generator call: ${state.callsMs[state.callsMs.length - 1].toFixed(1)} ms ` +
      `(median ${median.toFixed(1)} ms over the last ${calls.length}; ONNX Runtime Web ${D.ort_version}, WebAssembly)`;
  }

  // Redraw as soon as possible; changes made while a redraw runs are drawn right after it.
  async function requestRender() {
    dirty = true;
    if (busy) return;
    busy = true;
    try {
      while (dirty) {
        dirty = false;
        await renderOnce();
      }
    } catch (err) {
      fail(err);
    } finally {
      busy = false;
    }
  }

  function updatePanel(r) {
    const run = state.runs[r];
    const probs = probabilities(r, run.logits);
    const was = probabilities(r, run.base);
    const top = probs.indexOf(Math.max(...probs));
    for (let k = 0; k < probs.length; k++) {
      const row = $(`logit-${r}-${k}`);
      row.classList.toggle("top", k === top);
      row.querySelector("input").value = run.logits[k];
      row.querySelector(".value").textContent = run.logits[k].toFixed(2);
      row.querySelector(".fill").style.width = `${(100 * probs[k]).toFixed(1)}%`;
      row.querySelector(".was").style.left = `${(100 * was[k]).toFixed(1)}%`;
      row.querySelector(".prob").textContent = `${(100 * probs[k]).toFixed(1)}%`;
    }
    const label = D.images[state.image].label;
    const edited = run.logits.some((v, k) => v !== run.base[k]);
    $(`recon-caption-${r}`).textContent =
      `${D.runs[r].name}: from ${edited ? "the edited logits" : "the image's logits"}; top logit ` +
      `${className(top)}` + (edited ? "" : top === label ? " (the label)" : ` (label: ${className(label)})`);
  }

  // ------------------------------------------------------------------ state changes
  function selectImage(i) {
    state.image = i;
    const image = D.images[i];
    draw($("original"), bytes(image.pixels), false);
    $("original-caption").textContent = `test image #${image.index}: ${className(image.label)}`;
    for (let r = 0; r < D.runs.length; r++) {
      state.runs[r].base = Float32Array.from(D.runs[r].logits[i]);
      state.runs[r].logits = Float32Array.from(D.runs[r].logits[i]);
    }
    if (state.target === null || state.target === i) setTarget(D.images.findIndex((im) => im.label !== image.label));
    state.interp = 0;
    $("interp").value = 0;
    $("interp-value").textContent = "0.00";
    document.querySelectorAll("#thumbs canvas").forEach((c, k) => c.classList.toggle("selected", k === i));
    requestRender();
  }

  function setTarget(i) {
    state.target = i;
    $("target").value = String(i);
    document.querySelectorAll("#thumbs canvas").forEach((c, k) => c.classList.toggle("target", k === i));
  }

  function setNoise(draw) {
    state.noiseDraw = draw;
    for (let r = 0; r < D.runs.length; r++) {
      const dim = D.runs[r].dim_noise;
      // The pixel-loss decoder learnt to ignore its noise: it is always shown at noise 0.
      state.runs[r].noise = draw === 0 || D.runs[r].kind === "decoder" ? new Float32Array(dim) : normals(dim, draw);
    }
    $("noise-state").textContent = draw === 0 ? "0" : `draw ${draw}`;
    requestRender();
  }

  // Apply f(z, run index) to every run's current logits.
  function edit(f) {
    for (let r = 0; r < D.runs.length; r++) state.runs[r].logits = Float32Array.from(f(state.runs[r].logits, r));
    requestRender();
  }

  function number(id) {
    const v = parseFloat($(id).value);
    return Number.isFinite(v) ? v : 0;
  }

  // ------------------------------------------------------------------ page
  function build() {
    $("title").textContent = D.title;
    document.title = D.title;
    const thumbs = $("thumbs");
    D.images.forEach((image, i) => {
      const canvas = el("canvas", { title: `#${image.index}: ${className(image.label)}` });
      draw(canvas, bytes(image.pixels), false);
      canvas.addEventListener("click", (ev) => (ev.shiftKey ? (setTarget(i), applyInterp()) : selectImage(i)));
      thumbs.append(canvas);
      $("target").append(el("option", { value: String(i), textContent: `#${image.index} ${className(image.label)}` }));
    });
    const pictures = $("pictures");
    pictures.append(
      el("figure", {}, [el("canvas", { id: "original" }), el("figcaption", { id: "original-caption" })]),
    );
    D.runs.forEach((run, r) => {
      pictures.append(
        el("figure", {}, [el("canvas", { id: `recon-${r}` }), el("figcaption", { id: `recon-caption-${r}` })]),
      );
      const panel = el("div", { className: "panel" }, [
        el("h3", {
          textContent: run.output === "logits" ? `${run.name}: logits and softmax` : `${run.name}: ${run.output} outputs`,
        }),
        el("p", {
          className: "about",
          textContent: `${run.description}. Edit unit s = ${run.unit.toFixed(3)}.` +
            (run.output === "logits" ? "" : ` The inverter is given the classifier's ${run.output} outputs, not its logits.`) +
            (run.kind === "decoder" ? " A pixel-loss decoder: it ignores the noise." : ""),
        }),
      ]);
      D.classes.forEach((name, k) => {
        const slider = el("input", {
          type: "range",
          min: String(run.slider_range[0]),
          max: String(run.slider_range[1]),
          step: "0.01",
        });
        slider.setAttribute("aria-label", `${run.name} logit of ${name}`);
        slider.addEventListener("input", () => {
          state.runs[r].logits[k] = parseFloat(slider.value);
          requestRender();
        });
        const bar = el("div", { className: "bar" }, [el("div", { className: "fill" }), el("div", { className: "was" })]);
        panel.append(
          el("div", { className: "logit", id: `logit-${r}-${k}` }, [
            el("span", { className: "name", textContent: name }),
            slider,
            el("span", { className: "value" }),
            bar,
            el("span", { className: "prob" }),
          ]),
        );
      });
      $("panels").append(panel);
    });

    $("shift").addEventListener("click", () => edit((z, r) => z.map((v) => v + number("shift-c") * D.runs[r].unit)));
    $("scale").addEventListener("click", () => edit((z) => z.map((v) => v * number("scale-c"))));
    $("add-noise").addEventListener("click", () => {
      state.editDraws += 1;
      edit((z, r) => {
        const e = normals(z.length, 1000003 * state.editDraws + r);
        return z.map((v, k) => v + number("noise-c") * D.runs[r].unit * e[k]);
      });
    });
    $("swap-top2").addEventListener("click", () =>
      edit((z) => {
        const order = Array.from(z.keys()).sort((a, b) => z[b] - z[a]);
        const out = Float32Array.from(z);
        [out[order[0]], out[order[1]]] = [z[order[1]], z[order[0]]];
        return out;
      }),
    );
    $("reset").addEventListener("click", () => {
      state.interp = 0;
      $("interp").value = 0;
      $("interp-value").textContent = "0.00";
      edit((z, r) => state.runs[r].base);
    });
    $("target").addEventListener("change", () => {
      setTarget(parseInt($("target").value, 10));
      applyInterp();
    });
    $("interp").addEventListener("input", applyInterp);
    $("resample").addEventListener("click", () => setNoise(state.noiseDraw + 1));
    $("zero-noise").addEventListener("click", () => setNoise(0));
    const check = D.export_check;
    $("footer").textContent =
      `Generators exported to ONNX and checked against PyTorch in onnxruntime: largest pixel difference ` +
      `${check.max_error.toExponential(1)} (tolerance ${check.tolerance}). Logit sliders are the classifier's raw ` +
      `logits; the orange tick on each softmax bar is the probability before any edit. Shift leaves the softmax ` +
      `unchanged: only the inverter can see it.`;
  }

  // Interpolation: (1 - t) * the image's logits + t * the target's logits, for each classifier.
  function applyInterp() {
    const t = parseFloat($("interp").value);
    state.interp = t;
    $("interp-value").textContent = t.toFixed(2);
    edit((z, r) => state.runs[r].base.map((v, k) => (1 - t) * v + t * D.runs[r].logits[state.target][k]));
  }

  function fail(err) {
    state.error = String(err && err.stack ? err.stack : err);
    const status = $("status");
    status.textContent = `error: ${err}`;
    status.classList.add("error");
  }

  async function start() {
    try {
      if (!window.ort || !window.ORT_WASM || !window.ORT_GLUE) throw new Error("vendor/ (ONNX Runtime Web) did not load");
      if (!window.EXPLORER_MODELS || window.EXPLORER_MODELS.length !== D.runs.length) {
        throw new Error("models.js did not load");
      }
      // One thread (pages opened from disk are not cross-origin isolated, so cannot share memory with
      // workers anyway), no proxy worker, and the WebAssembly handed over directly: nothing is fetched.
      ort.env.wasm.numThreads = 1;
      ort.env.wasm.proxy = false;
      ort.env.wasm.wasmBinary = bytes(window.ORT_WASM);
      ort.env.wasm.wasmPaths = {
        mjs: URL.createObjectURL(new Blob([window.ORT_GLUE], { type: "text/javascript" })),
      };
      for (const model of window.EXPLORER_MODELS) {
        sessions.push(await ort.InferenceSession.create(bytes(model), { executionProviders: ["wasm"] }));
      }
      state.runs = D.runs.map((run) => ({
        logits: new Float32Array(D.classes.length),
        base: new Float32Array(D.classes.length),
        noise: new Float32Array(run.dim_noise),
      }));
      build();
      selectImage(0);
      while (!state.idle()) await new Promise((resolve) => setTimeout(resolve, 5));
      if (state.error) return;
      $("status").textContent = `${D.runs.length} generator${D.runs.length > 1 ? "s" : ""} ready.`;
      state.ready = true;
    } catch (err) {
      fail(err);
    }
  }

  start();
})();
