// qwen-ocr's web page: pick or drop files, send each one to POST /v1/ocr, and show its pages
// as the NDJSON stream brings them, grouped by language. No framework, no build step.

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const form = /** @type {HTMLFormElement} */ ($("form"));
const filesInput = /** @type {HTMLInputElement} */ ($("files"));
const drop = $("drop");
const chosenList = $("chosen");
const engineSelect = /** @type {HTMLSelectElement} */ ($("engine"));
const promptSelect = /** @type {HTMLSelectElement} */ ($("prompt"));
const promptHelp = $("prompt-help");
const tokenInput = /** @type {HTMLInputElement} */ ($("token"));
const runButton = /** @type {HTMLButtonElement} */ ($("run"));
const stopButton = /** @type {HTMLButtonElement} */ ($("stop"));
const results = $("results");
const announcer = $("announce");
const message = $("message");
const docTemplate = /** @type {HTMLTemplateElement} */ ($("doc-template"));

const TOKEN_KEY = "qwen-ocr-token";
/** @type {File[]} */
let chosen = [];
let engines = [];
let templates = [];
/** @type {AbortController | undefined} */
let running;

tokenInput.value = sessionStorage.getItem(TOKEN_KEY) ?? "";
tokenInput.addEventListener("change", () => {
  sessionStorage.setItem(TOKEN_KEY, tokenInput.value.trim());
  connect();
});

function headers(extra = {}) {
  const token = tokenInput.value.trim();
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

function announce(text) {
  // Changing the text of the live region is what screen readers read out.
  announcer.textContent = "";
  requestAnimationFrame(() => (announcer.textContent = text));
}

function showMessage(text) {
  message.textContent = text;
  message.hidden = !text;
}

/** Reads an error answer: `{error: {code, message}}`, or the status line. */
async function errorOf(response) {
  try {
    const body = await response.json();
    if (body && body.error) return body.error;
  } catch {}
  return { code: String(response.status), message: response.statusText || `HTTP ${response.status}` };
}

function needToken(error) {
  const box = /** @type {HTMLDetailsElement} */ ($("token-box"));
  box.open = true;
  showMessage(`${error.message}. Enter the server's token under “Access token”.`);
  tokenInput.focus();
}

// --- the server: engines, templates, limits -------------------------------------------------

async function connect() {
  const server = $("server");
  try {
    const [health, list] = await Promise.all([fetch("/v1/health", { headers: headers() }), fetch("/v1/templates", { headers: headers() })]);
    if (health.status === 401 || list.status === 401) {
      server.textContent = "This server needs a token.";
      needToken(await errorOf(health.status === 401 ? health : list));
      return;
    }
    const info = await health.json();
    templates = (await list.json()).templates ?? [];
    engines = info.engines ?? [];
    showMessage("");
    server.textContent = `Engine ${info.engine} (${info.model}${info.device ? `, ${info.device}` : ""}) · ${info.queue.running} running, ${info.queue.waiting} waiting`;
    $("limits").textContent = `Up to ${Math.round(info.limits.maxUploadBytes / 1048576)} MB and ${info.limits.maxPages} pages per file.`;
    fillEngines(info.engine);
    fillTemplates();
    updateRunButton();
  } catch (err) {
    server.textContent = `Cannot reach the server: ${err instanceof Error ? err.message : err}`;
  }
}

function fillEngines(current) {
  const previous = engineSelect.value;
  engineSelect.replaceChildren(
    ...engines.map((e) => {
      const option = new Option(`${e.name}${e.name === current ? " (server default)" : ""}`, e.name);
      option.title = e.description;
      return option;
    }),
  );
  engineSelect.value = engines.some((e) => e.name === previous) ? previous : current;
}

function fillTemplates() {
  const engine = engines.find((e) => e.name === engineSelect.value);
  const generative = !!engine?.generative;
  const previous = promptSelect.value;
  const options = [new Option("plain (default)", "")];
  for (const t of templates) {
    if (t.name === "plain") continue;
    const option = new Option(`${t.name} · ${t.description}`, t.name);
    // Templates made for vision-language engines are refused for engines that only read text.
    option.disabled = !generative && t.engines.length > 0 && !t.engines.includes(engineSelect.value);
    options.push(option);
  }
  promptSelect.replaceChildren(...options);
  const keep = options.find((o) => o.value === previous && !o.disabled);
  promptSelect.value = keep ? previous : "";
  promptHelp.textContent = generative ? "" : `${engineSelect.value} reads the text as it is; templates that extract fields need a vision-language engine.`;
}

engineSelect.addEventListener("change", fillTemplates);

// --- choosing files ------------------------------------------------------------------------

function choose(files) {
  chosen = [...files].filter((f) => f.size > 0);
  chosenList.replaceChildren(
    ...chosen.map((f) => {
      const li = document.createElement("li");
      li.textContent = `${f.name} (${formatSize(f.size)})`;
      return li;
    }),
  );
  updateRunButton();
  if (chosen.length) announce(`${chosen.length} file${chosen.length === 1 ? "" : "s"} chosen`);
}

function updateRunButton() {
  runButton.disabled = !chosen.length || !!running || !engines.length;
}

filesInput.addEventListener("change", () => choose(filesInput.files ?? []));
for (const type of ["dragenter", "dragover"]) {
  drop.addEventListener(type, (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
}
for (const type of ["dragleave", "drop"]) drop.addEventListener(type, () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  if (event.dataTransfer?.files.length) choose(event.dataTransfer.files);
});

// --- reading -------------------------------------------------------------------------------

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!chosen.length || running) return;
  running = new AbortController();
  stopButton.hidden = false;
  updateRunButton();
  showMessage("");
  const files = chosen;
  const docs = files.map((file) => createDoc(file.name));
  results.prepend(...docs.map((d) => d.element));
  try {
    for (let i = 0; i < files.length; i++) {
      if (running.signal.aborted) {
        docs[i].setStatus("not read (stopped)");
        continue;
      }
      await readFile(files[i], docs[i], running.signal);
    }
  } finally {
    running = undefined;
    stopButton.hidden = true;
    updateRunButton();
    connect();
  }
});

stopButton.addEventListener("click", () => running?.abort());

function options() {
  const fields = {};
  for (const name of ["engine", "prompt", "pages", "lang", "group_by", "lang_names", "pdf_text", "prompt_text"]) {
    const el = /** @type {HTMLInputElement} */ ($(name));
    const value = el.value.trim();
    if (value && !el.disabled) fields[name] = value;
  }
  if (fields.prompt_text) delete fields.prompt;
  return fields;
}

async function readFile(file, doc, signal) {
  const fields = options();
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  body.append("file", file, file.name);
  doc.setStatus("waiting for the server…");
  doc.groupBy = fields.group_by !== "none";
  const started = performance.now();
  let response;
  try {
    response = await fetch("/v1/ocr", { method: "POST", body, headers: headers({ Accept: "application/x-ndjson" }), signal });
  } catch (err) {
    doc.fail(signal.aborted ? "stopped" : `cannot reach the server: ${err instanceof Error ? err.message : err}`);
    return;
  }
  if (!response.ok || !response.body) {
    const error = await errorOf(response);
    if (response.status === 401) needToken(error);
    doc.fail(`${error.message}${response.status === 503 && response.headers.get("Retry-After") ? ` (try again in ${response.headers.get("Retry-After")} s)` : ""}`);
    announce(`${file.name}: failed`);
    return;
  }
  doc.setStatus("reading…");
  try {
    for await (const record of ndjson(response.body)) {
      doc.addPage(record);
      const pages = record.pages || doc.records.length;
      doc.setStatus(record.page < pages ? `read page ${record.page} of ${pages}…` : "finishing…");
      announce(`${file.name}: page ${record.page} of ${pages} ${record.error ? "failed" : "read"}`);
    }
  } catch (err) {
    if (!signal.aborted) doc.fail(`the answer broke off: ${err instanceof Error ? err.message : err}`);
  }
  doc.finish(performance.now() - started, signal.aborted);
  announce(`${file.name}: ${doc.summary()}`);
}

/** Records from a stream of JSON lines, each as soon as its line is complete. */
async function* ndjson(stream) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  while (true) {
    const { value, done } = await reader.read();
    if (value) buffer += value;
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line) yield JSON.parse(line);
    }
    if (done) break;
  }
  if (buffer.trim()) yield JSON.parse(buffer);
}

// --- showing a document ---------------------------------------------------------------------

const FINISH = { stop: ["ok", "ok"], length: ["cut short: the token limit was reached", "warn"], loop: ["stopped: the model repeated itself", "warn"] };

function createDoc(name) {
  const element = /** @type {HTMLElement} */ (docTemplate.content.firstElementChild.cloneNode(true));
  const status = element.querySelector(".doc-status");
  const pagesBox = element.querySelector(".pages");
  element.querySelector(".doc-name").textContent = name;
  element.setAttribute("aria-busy", "true");
  const doc = {
    element,
    name,
    groupBy: true,
    /** @type {any[]} */
    records: [],
    setStatus(text, kind = "") {
      status.textContent = text;
      status.className = `doc-status ${kind}`;
    },
    fail(text) {
      doc.setStatus(`Failed: ${text}`, "error");
      element.setAttribute("aria-busy", "false");
    },
    addPage(record) {
      doc.records.push(record);
      pagesBox.append(renderPage(record, doc.groupBy));
    },
    summary() {
      const failed = doc.records.filter((r) => r.error).length;
      const n = doc.records.filter((r) => r.page > 0).length;
      return `${n} page${n === 1 ? "" : "s"} read${failed ? `, ${failed} failed` : ""}`;
    },
    finish(ms, stopped) {
      element.setAttribute("aria-busy", "false");
      if (!doc.records.length) {
        if (stopped) doc.fail("stopped");
        return;
      }
      const failed = doc.records.some((r) => r.error);
      doc.setStatus(`${stopped ? "Stopped: " : ""}${doc.summary()} in ${(ms / 1000).toFixed(1)} s · ${doc.records[0].engine}`, failed ? "error" : "ok");
      for (const button of element.querySelectorAll(".doc-actions button")) button.disabled = false;
    },
  };
  element.querySelector(".doc-actions").addEventListener("click", async (event) => {
    const button = /** @type {HTMLElement} */ (event.target).closest("button");
    if (!button || !doc.records.length) return;
    const action = button.dataset.action;
    const base = name.replace(/\.[^.]+$/, "") || "document";
    if (action === "copy") {
      await copy(documentText(doc.records, doc.groupBy));
      announce("Text copied");
      button.textContent = "Copied";
      setTimeout(() => (button.textContent = "Copy text"), 1500);
    } else if (action === "txt") download(`${base}.txt`, documentText(doc.records, doc.groupBy), "text/plain");
    else if (action === "md") download(`${base}.md`, documentMarkdown(doc.records, doc.groupBy), "text/markdown");
    else if (action === "json") download(`${base}.json`, `${JSON.stringify(toDocument(doc.records), null, 2)}\n`, "application/json");
  });
  return doc;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  node.append(...children);
  return node;
}

function renderPage(record, groupBy) {
  const title = record.page > 0 ? `Page ${record.page}${record.pages ? ` of ${record.pages}` : ""}` : "Document";
  const [label, kind] = record.error ? [`error (${record.error.code}): ${record.error.message}`, "error"] : (FINISH[record.finish] ?? ["ok", "ok"]);
  const section = el("section", { class: "page", "aria-label": title });
  section.append(el("h3", {}, title, " ", el("span", { class: `badge ${kind}` }, label)));
  if (record.error) return section;
  for (const warning of record.warnings ?? []) section.append(el("p", { class: "warning small" }, warning));
  if (record.data !== undefined) section.append(el("pre", { class: "data" }, JSON.stringify(record.data, null, 2)));
  const groups = groupBy ? (record.languages ?? []) : [];
  if (groups.length) {
    for (const group of groups) {
      const lines = group.text.split("\n");
      const box = el("section", { class: "lang", lang: group.lang === "und" ? undefined : group.lang, dir: group.dir });
      box.append(el("h4", { dir: "auto" }, group.name));
      box.append(linesBlock(lines, lines.map((_, k) => record.lines?.[group.lines?.[k]]?.dir ?? group.dir)));
      section.append(box);
    }
  } else if (record.text) {
    const lines = record.text.split("\n");
    const dirs = record.lines?.length === lines.length ? record.lines.map((l) => l.dir ?? "auto") : lines.map(() => "auto");
    section.append(linesBlock(lines, dirs));
  } else {
    section.append(el("p", { class: "muted" }, "(no text found)"));
  }
  const t = record.timings;
  const origin = record.origin === "text-layer" ? " · from the PDF's own text" : "";
  if (t) section.append(el("p", { class: "muted small" }, `${record.width ?? "?"}×${record.height ?? "?"} px · ${Math.round(t.totalMs)} ms${origin}`));
  return section;
}

function linesBlock(lines, dirs) {
  const block = el("div", { class: "text" });
  lines.forEach((line, i) => block.append(el("p", { dir: dirs[i] === "rtl" ? "rtl" : "auto" }, line || "\u00a0")));
  return block;
}

// --- copies and downloads: the CLI's formats --------------------------------------------------

function pageText(record, groupBy) {
  if (!groupBy || !record.languages?.length) return record.text;
  return record.languages.map((g) => `[${g.name}]\n${g.text}`).join("\n\n");
}

function documentText(records, groupBy) {
  return `${records.filter((r) => !r.error).map((r) => pageText(r, groupBy)).join("\n\n")}\n`;
}

function documentMarkdown(records, groupBy) {
  const escape = (s) => s.replace(/([\\`*_#[\]])/g, "\\$1");
  let out = `# ${escape(records[0].source)}\n`;
  for (const r of records) {
    if (r.page === 0) {
      out += `\n> **Error** (${r.error?.code}): ${r.error?.message}\n`;
      continue;
    }
    out += `\n## Page ${r.page}${r.pages ? ` of ${r.pages}` : ""}\n\n`;
    if (r.error) {
      out += `> **Error** (${r.error.code}): ${r.error.message}\n`;
      continue;
    }
    let text = r.text;
    if (groupBy && r.languages?.length) {
      text = r.languages
        .map((g) => `### ${escape(g.name)}\n\n${g.dir === "rtl" ? `<div dir="rtl">\n\n${g.text}\n\n</div>` : g.text}`)
        .join("\n\n");
    }
    out += text ? `${text}\n` : "_(no text found)_\n";
  }
  return out;
}

/** The JSON format's document, as `qwen-ocr scan -f json` writes it for one input. */
function toDocument(records) {
  const doc = {
    source: records[0].source,
    pages: Math.max(0, ...records.map((r) => r.pages)),
    engine: records[0].engine,
    model: records[0].model,
    text: records.filter((r) => !r.error).map((r) => r.text).join("\n\n"),
    records,
  };
  const failed = records.find((r) => r.error);
  if (failed) doc.error = failed.page > 0 ? { code: failed.error.code, message: `page ${failed.page}: ${failed.error.message}` } : failed.error;
  return doc;
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = el("textarea", { class: "visually-hidden" });
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
}

function download(filename, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type: `${type};charset=utf-8` }));
  const a = el("a", { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function formatSize(bytes) {
  return bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

connect();
