// The openlive console: one Live session driven from the page (voice, text, screen, tools),
// a music tab, an event log and per-turn latency.

import { Microphone, Player, fromBase64, pcmFormat, toBase64 } from "./audio.js";
import { LiveSession, describeClose } from "./live.js";
import { MusicTab } from "./music.js";
import { DEMO_DECLARATIONS, answerDemo } from "./tools.js";

const $ = (id) => document.getElementById(id);
const VOICED_RMS = 0.015; // a 100 ms chunk louder than this counts as speech (for latency)
const SILENCE_TO_THINK_MS = 400; // local silence after speech before the state says "thinking"
const FRAME_INTERVAL_MS = 1000; // screen and camera frames: about one a second
const MAX_FRAME_WIDTH = 1280;
const MAX_LOG = 600;

// What the page did, for people reading the console from devtools and for its browser tests.
const hooks = {
  state: "idle",
  states: [],
  stats: { chunksSent: 0, framesSent: 0, audioChunks: 0, played: 0, peak: 0, seconds: 0 },
  music: { chunks: 0, seconds: 0, peak: 0 },
  transcript: [],
  turns: [],
  calls: [],
  events: [],
  errors: [],
};
window.openlive = hooks;

let info = { models: [], voices: [], musicModels: [], apiKeyRequired: false };
let session = null;
let player = null;
let mic = null;
let share = null; // {stream, timer, kind}
let connectedAt = performance.now();
let userEntry = null;
let modelEntry = null;
let lastVoiceAt = 0; // when the last voiced chunk was captured
let speechPending = false; // speech seen since the last reply started
let textSentAt = 0;
let thinkTimer = 0;
let interruptedTimer = 0;
let modelBusy = false; // a model turn is in progress (between first content and turnComplete)
let audioRuns = { in: null, out: null }; // the log lines counting audio chunks, per direction

// ---- state, errors ----

const STATE_TEXT = {
  idle: "Not connected",
  connecting: "Connecting…",
  ready: "Connected — type, or start the microphone",
  listening: "Listening",
  thinking: "Thinking…",
  speaking: "Speaking",
  interrupted: "Interrupted",
  reconnecting: "Reconnecting…",
  error: "Disconnected",
};

function setState(name, detail = "") {
  if (hooks.state === name && !detail) return;
  hooks.state = name;
  hooks.states.push(name);
  const element = $("state");
  element.dataset.state = name;
  element.textContent = STATE_TEXT[name] + (detail ? ` — ${detail}` : "");
}

function restingState() {
  if (!session) return "idle";
  return mic && mic.active ? "listening" : "ready";
}

function settle() {
  if (!session || modelBusy || (player && player.playing)) return;
  if (hooks.state === "interrupted" || hooks.state === "reconnecting") return;
  setState(restingState());
}

function showError(text) {
  hooks.errors.push(text);
  const alert = $("alert");
  alert.textContent = text;
  alert.hidden = false;
}

function clearError() {
  $("alert").hidden = true;
  $("alert").textContent = "";
}

// ---- event log ----

function summarize(message) {
  const kind = Object.keys(message)[0] || "?";
  const body = message[kind];
  if (kind === "realtimeInput" || kind === "serverContent" || kind === "clientContent") {
    const parts = [];
    for (const [key, value] of Object.entries(body || {})) {
      if (value && typeof value === "object" && typeof value.data === "string") {
        parts.push(`${key} ${value.mimeType || ""} ${Math.round((value.data.length * 3) / 4)} B`);
      } else if (key === "modelTurn") {
        for (const part of value.parts || []) {
          if (part.text) parts.push(`text ${JSON.stringify(part.text)}`);
          else if (part.inlineData) {
            const size = Math.round((part.inlineData.data.length * 3) / 4);
            parts.push(`audio ${part.inlineData.mimeType} ${size} B`);
          }
        }
      } else if (key === "audioChunks") {
        parts.push(`${value.length} music chunk(s)`);
      } else {
        parts.push(`${key} ${JSON.stringify(value)}`.slice(0, 160));
      }
    }
    return `${kind}: ${parts.join("; ")}`;
  }
  return `${kind} ${JSON.stringify(body)}`.slice(0, 300);
}

function isAudio(message) {
  const input = message.realtimeInput;
  if (input && (input.audio || input.mediaChunks)) return true;
  const content = message.serverContent;
  if (content && content.modelTurn) {
    const parts = content.modelTurn.parts || [];
    return parts.length > 0 && parts.every((p) => p.inlineData);
  }
  return Boolean(content && content.audioChunks);
}

function logEvent({ dir, message, at }) {
  const kind = Object.keys(message)[0] || "?";
  hooks.events.push({ dir, kind, at: Math.round(at - connectedAt) });
  if (hooks.events.length > 4 * MAX_LOG) hooks.events.splice(0, MAX_LOG);
  const list = $("log");
  const stamp = `${((at - connectedAt) / 1000).toFixed(3)} s`;
  const arrow = dir === "out" ? "↑" : "↓";
  if (isAudio(message) && !$("logAudio").checked) {
    // audio chunks going each way fold into one line per direction until another message
    let run = audioRuns[dir];
    if (!run || !run.item.isConnected) {
      run = { count: 0, item: document.createElement("li"), first: stamp };
      audioRuns[dir] = run;
      list.append(run.item);
    }
    run.count += 1;
    run.item.replaceChildren(span("t", `${run.first}–${stamp}`), span(dir, `${arrow} ${run.count} audio chunk(s)`));
  } else {
    audioRuns = { in: null, out: null };
    const item = document.createElement("li");
    item.append(span("t", stamp), span(dir, `${arrow} ${summarize(message)}`));
    list.append(item);
  }
  while (list.children.length > MAX_LOG) list.firstElementChild.remove();
  list.scrollTop = list.scrollHeight;
}

function span(className, text) {
  const element = document.createElement("span");
  element.className = className;
  element.textContent = text;
  return element;
}

// ---- transcript ----

function entry(role, text = "") {
  const item = document.createElement("li");
  item.className = role;
  const who = span("who", role === "user" ? "You:" : role === "model" ? "Model:" : "");
  const words = span("words", text);
  item.append(who, words);
  $("transcript").append(item);
  $("transcript").scrollTop = $("transcript").scrollHeight;
  const record = { role, text, item, words };
  hooks.transcript.push({ role, text });
  record.index = hooks.transcript.length - 1;
  return record;
}

function append(record, text) {
  record.text += text;
  record.words.textContent = record.text;
  hooks.transcript[record.index].text = record.text;
  $("transcript").scrollTop = $("transcript").scrollHeight;
}

/** Say something to screen readers once (the transcript itself is not a live region: it
 * grows a word at a time). */
function announce(text) {
  $("announcer").textContent = text;
}

function note(text) {
  entry("note", text);
}

// ---- latency ----

function recordLatency(kind, ms) {
  hooks.turns.push({ kind, ms: Math.round(ms) });
  const label = kind === "voice" ? "End of speech → first reply audio" : "Message sent → first reply";
  $("latency").textContent = `${label}: ${Math.round(ms)} ms (turn ${hooks.turns.length})`;
  drawChart();
}

function drawChart() {
  const svg = $("chart");
  const values = hooks.turns.slice(-30);
  const top = Math.max(1000, ...values.map((v) => v.ms));
  const ns = "http://www.w3.org/2000/svg";
  svg.replaceChildren();
  const width = 300 / Math.max(values.length, 10);
  values.forEach((value, i) => {
    const bar = document.createElementNS(ns, "rect");
    const height = (value.ms / top) * 70;
    bar.setAttribute("x", String(i * width + 1));
    bar.setAttribute("y", String(78 - height));
    bar.setAttribute("width", String(Math.max(1, width - 2)));
    bar.setAttribute("height", String(height));
    const title = document.createElementNS(ns, "title");
    title.textContent = `turn ${hooks.turns.length - values.length + i + 1}: ${value.ms} ms (${value.kind})`;
    bar.append(title);
    svg.append(bar);
  });
  const line = document.createElementNS(ns, "line");
  const y = 78 - (1000 / top) * 70;
  for (const [k, v] of [["x1", 0], ["x2", 300], ["y1", y], ["y2", y]]) line.setAttribute(k, String(v));
  const label = document.createElementNS(ns, "text");
  label.setAttribute("x", "2");
  label.setAttribute("y", String(y - 2));
  label.textContent = "1 s";
  svg.append(line, label);
  svg.setAttribute("aria-label", `Latency per turn, last ${values.length}: ${values.map((v) => v.ms).join(", ")} ms`);
}

// ---- the session ----

function buildSetup() {
  const setup = { model: `models/${$("model").value}` };
  const modality = $("modality").value;
  setup.generationConfig = { responseModalities: [modality] };
  if (modality === "AUDIO") {
    setup.generationConfig.speechConfig = {
      voiceConfig: { prebuiltVoiceConfig: { voiceName: $("voice").value } },
    };
    setup.outputAudioTranscription = {};
  }
  if ($("temperature").value !== "") setup.generationConfig.temperature = Number($("temperature").value);
  setup.inputAudioTranscription = {};
  const instruction = $("instruction").value.trim();
  if (instruction) setup.systemInstruction = { parts: [{ text: instruction }] };
  const detection = { disabled: !$("vadAuto").checked };
  if ($("silenceMs").value !== "") detection.silenceDurationMs = Number($("silenceMs").value);
  if ($("endSensitivity").value) detection.endOfSpeechSensitivity = $("endSensitivity").value;
  if ($("startSensitivity").value) detection.startOfSpeechSensitivity = $("startSensitivity").value;
  setup.realtimeInputConfig = { automaticActivityDetection: detection };
  if ($("toolsOn").checked) {
    let declarations;
    try {
      declarations = JSON.parse($("tools").value || "[]");
    } catch (error) {
      throw new Error(`The function declarations are not valid JSON: ${error.message}`);
    }
    if (!Array.isArray(declarations)) throw new Error("The function declarations must be a JSON list");
    if (declarations.length > 0) setup.tools = [{ functionDeclarations: declarations }];
  }
  return setup;
}

async function connect(event) {
  event.preventDefault();
  if (session) return;
  clearError();
  let setup;
  try {
    setup = buildSetup();
  } catch (error) {
    showError(error.message);
    return;
  }
  $("connect").disabled = true;
  connectedAt = performance.now();
  player = new Player({
    rate: 24000,
    onState: (playing) => {
      if (playing) setState("speaking");
      else settle();
    },
  });
  player.setVolume(Number($("volume").value));
  const opening = new LiveSession(setup, {
    apiKey: $("apiKey").value.trim(),
    handlers: {
      event: logEvent,
      message: receive,
      state: (name, detail) => {
        if (name === "resumed") {
          note("Resumed the session on a new connection.");
          setState(restingState());
        } else setState(name, detail);
      },
      closed: closed,
    },
  });
  try {
    await player.open(); // on the click: browsers start audio on a gesture
    session = opening;
    await opening.connect();
    setState("ready");
    connected(true);
  } catch (error) {
    session = null;
    closePlayer();
    showError(`Could not connect: ${error.message}`);
    setState("error");
    connected(false);
  }
}

function connected(on) {
  $("connect").disabled = on;
  $("disconnect").disabled = !on;
  for (const id of ["mic", "screen", "camera", "text", "send"]) $(id).disabled = !on;
  for (const id of ["model", "modality", "voice", "temperature", "instruction", "apiKey", "vadAuto", "silenceMs",
    "endSensitivity", "startSensitivity", "toolsOn", "tools"]) {
    $(id).disabled = on;
  }
}

async function disconnect() {
  const current = session;
  session = null;
  await stopMic(false);
  stopShare();
  if (current) current.close();
  closePlayer();
  connected(false);
  setState("idle");
}

function closePlayer() {
  if (player) player.close().catch(() => {});
  player = null;
}

function closed(code, reason) {
  session = null;
  stopMic(false);
  stopShare();
  closePlayer();
  connected(false);
  showError(`The session ended: ${describeClose(code, reason)}`);
  setState("error", describeClose(code, ""));
}

function receive(message) {
  if (message.serverContent) content(message.serverContent);
  if (message.toolCall) toolCall(message.toolCall);
  if (message.toolCallCancellation) cancelled(message.toolCallCancellation.ids || []);
  if (message.goAway) note(`The server will close this connection in ${message.goAway.timeLeft || "a moment"}; moving.`);
}

function content(c) {
  if (c.inputTranscription && c.inputTranscription.text) {
    if (!userEntry) userEntry = entry("user");
    append(userEntry, c.inputTranscription.text);
  }
  if (c.interrupted) {
    player.flush();
    modelBusy = false;
    modelEntry = null;
    setState("interrupted");
    clearTimeout(interruptedTimer);
    interruptedTimer = setTimeout(() => {
      if (hooks.state === "interrupted") setState(restingState());
    }, 800);
  }
  const parts = (c.modelTurn && c.modelTurn.parts) || [];
  for (const part of parts) {
    if (part.inlineData && part.inlineData.data && /^audio\//.test(part.inlineData.mimeType || "")) {
      startReply(true);
      hooks.stats.audioChunks += 1;
      const format = pcmFormat(part.inlineData.mimeType);
      if (format.rate !== player.rate) {
        const { onState } = player;
        closePlayer();
        player = new Player({ rate: format.rate, onState });
        player.setVolume(Number($("volume").value));
      }
      player.push(fromBase64(part.inlineData.data)).catch((error) => {
        showError(`The reply could not be played: ${error.message}`);
      });
    } else if (part.text) {
      startReply(false);
      if (!modelEntry) modelEntry = entry("model");
      if (!modelEntry.heard) append(modelEntry, part.text);
    }
  }
  if (c.outputTranscription && c.outputTranscription.text) {
    startReply(false);
    if (!modelEntry) modelEntry = entry("model");
    modelEntry.heard = true;
    append(modelEntry, c.outputTranscription.text);
  }
  if (c.turnComplete) {
    if (modelEntry && modelEntry.text) announce(`Model: ${modelEntry.text}`);
    modelBusy = false;
    modelEntry = null;
    userEntry = null;
    settle();
  }
}

function startReply(audio) {
  if (!modelBusy) {
    modelBusy = true;
    userEntry = null;
    clearTimeout(thinkTimer);
    if (hooks.state !== "speaking") setState("speaking");
  }
  const now = performance.now();
  if (audio && speechPending) {
    speechPending = false;
    recordLatency("voice", now - lastVoiceAt);
  } else if (textSentAt) {
    recordLatency("text", now - textSentAt);
  }
  textSentAt = 0;
  if (audio) speechPending = false;
}

// ---- text ----

function sendText(event) {
  event.preventDefault();
  const text = $("text").value.trim();
  if (!text || !session) return;
  const sent = session.send({
    clientContent: { turns: [{ role: "user", parts: [{ text }] }], turnComplete: true },
  });
  if (!sent) {
    showError("Not sent: the connection is not open (reconnecting?)");
    return;
  }
  $("text").value = "";
  userEntry = null;
  modelEntry = null;
  entry("user", text);
  textSentAt = performance.now();
  speechPending = false;
  setState("thinking");
}

// ---- microphone ----

async function toggleMic() {
  if (mic && mic.active) {
    await stopMic(true);
    return;
  }
  const starting = new Microphone(onChunk);
  mic = starting;
  $("mic").disabled = true; // one start at a time
  try {
    await starting.start();
  } catch (error) {
    if (mic === starting) mic = null;
    await starting.stop();
    showError(`The microphone could not start: ${error.message}`);
    return;
  } finally {
    $("mic").disabled = !session;
  }
  if (mic !== starting || !session) {
    await starting.stop(); // disconnected (or stopped) while it was starting
    return;
  }
  if (!$("vadAuto").checked) session.send({ realtimeInput: { activityStart: {} } });
  $("mic").setAttribute("aria-pressed", "true");
  $("mic").textContent = $("vadAuto").checked ? "Stop microphone" : "End my turn";
  setState("listening");
}

async function stopMic(tell) {
  if (!mic) return;
  const current = mic;
  mic = null;
  await current.stop();
  $("mic").setAttribute("aria-pressed", "false");
  $("mic").textContent = "Start microphone";
  $("level").textContent = "";
  if (tell && session) {
    if ($("vadAuto").checked) session.send({ realtimeInput: { audioStreamEnd: true } });
    else {
      session.send({ realtimeInput: { activityEnd: {} } });
      setState("thinking");
    }
  }
  if (session && hooks.state === "listening") setState("ready");
}

function onChunk({ pcm, rms }) {
  if (!session) return;
  const sent = session.send({
    realtimeInput: { audio: { data: toBase64(pcm), mimeType: "audio/pcm;rate=16000" } },
  });
  if (sent) hooks.stats.chunksSent += 1;
  const level = Math.min(1, rms * 8);
  $("level").textContent = `Microphone level ${"▮".repeat(Math.round(level * 20))}`;
  if (rms > VOICED_RMS) {
    lastVoiceAt = performance.now();
    speechPending = true;
    clearTimeout(thinkTimer);
    if (!modelBusy && hooks.state !== "listening") setState("listening");
    thinkTimer = setTimeout(() => {
      if (speechPending && !modelBusy && $("vadAuto").checked) setState("thinking");
    }, SILENCE_TO_THINK_MS);
  }
}

// ---- screen and camera ----

async function toggleShare(kind) {
  if (share) {
    const was = share.kind;
    stopShare();
    if (was === kind) return;
  }
  let stream;
  try {
    stream =
      kind === "screen"
        ? await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: 5 }, audio: false })
        : await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 1280 } }, audio: false });
  } catch (error) {
    showError(`Sharing the ${kind} did not start: ${error.message}`);
    return;
  }
  const video = $("preview");
  video.srcObject = stream;
  video.hidden = false;
  await video.play().catch(() => {});
  const canvas = document.createElement("canvas");
  const timer = setInterval(() => sendFrame(video, canvas), FRAME_INTERVAL_MS);
  share = { stream, timer, kind };
  for (const track of stream.getVideoTracks()) track.addEventListener("ended", () => stopShare());
  const button = $(kind);
  button.setAttribute("aria-pressed", "true");
  button.textContent = kind === "screen" ? "Stop sharing screen" : "Stop sharing camera";
  note(`Sharing your ${kind} at about one frame a second.`);
}

function sendFrame(video, canvas) {
  if (!session || !video.videoWidth) return;
  const scale = Math.min(1, MAX_FRAME_WIDTH / video.videoWidth);
  canvas.width = Math.round(video.videoWidth * scale);
  canvas.height = Math.round(video.videoHeight * scale);
  canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
  canvas.toBlob(
    async (blob) => {
      if (!blob || !session) return;
      const bytes = new Uint8Array(await blob.arrayBuffer());
      if (session.send({ realtimeInput: { video: { data: toBase64(bytes), mimeType: "image/jpeg" } } })) {
        hooks.stats.framesSent += 1;
      }
    },
    "image/jpeg",
    0.8,
  );
}

function stopShare() {
  if (!share) return;
  clearInterval(share.timer);
  for (const track of share.stream.getTracks()) track.stop();
  const button = $(share.kind);
  button.setAttribute("aria-pressed", "false");
  button.textContent = share.kind === "screen" ? "Share screen" : "Share camera";
  share = null;
  const video = $("preview");
  video.srcObject = null;
  video.hidden = true;
}

// ---- tools ----

function toolCall(call) {
  setState("thinking", "a tool was called");
  for (const fc of call.functionCalls || []) {
    const record = { id: fc.id, name: fc.name, args: fc.args || {}, response: null, cancelled: false };
    hooks.calls.push(record);
    const item = document.createElement("li");
    item.dataset.callId = fc.id || "";
    const title = document.createElement("p");
    title.append(span("name", `${fc.name}`), document.createTextNode(" called with "));
    const args = document.createElement("code");
    args.textContent = JSON.stringify(fc.args || {});
    title.append(args);
    item.append(title);
    $("calls").append(item);
    const automatic = $("autoAnswer").checked ? answerDemo(fc.name, fc.args || {}) : undefined;
    if (automatic !== undefined) {
      respond(record, item, { output: automatic }, "answered automatically");
      continue;
    }
    const label = document.createElement("label");
    const field = document.createElement("textarea");
    const id = `answer-${hooks.calls.length}`;
    field.id = id;
    field.rows = 2;
    field.value = JSON.stringify({ output: "" });
    label.htmlFor = id;
    label.textContent = `Answer to ${fc.name} (JSON)`;
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Send answer";
    button.addEventListener("click", () => {
      let response;
      try {
        response = JSON.parse(field.value);
      } catch (error) {
        showError(`The answer is not valid JSON: ${error.message}`);
        return;
      }
      label.remove();
      field.remove();
      button.remove();
      respond(record, item, response, "answered");
    });
    item.append(label, field, button);
    announce(`${fc.name} was called: answer it in the tools panel.`);
  }
}

function respond(record, item, response, how) {
  if (record.cancelled) return;
  const sent = session && session.send({
    toolResponse: { functionResponses: [{ id: record.id, name: record.name, response }] },
  });
  record.response = response;
  const line = document.createElement("p");
  line.textContent = `${sent ? how : "not sent (not connected)"}: ${JSON.stringify(response)}`;
  item.append(line);
  if (sent) setState("thinking");
}

function cancelled(ids) {
  for (const id of ids) {
    const record = hooks.calls.find((c) => c.id === id);
    if (record) record.cancelled = true;
    const item = [...$("calls").children].find((li) => li.dataset.callId === id);
    if (item) {
      item.classList.add("cancelled");
      for (const control of item.querySelectorAll("button, textarea")) control.disabled = true;
      const line = document.createElement("p");
      line.textContent = "cancelled by the server";
      item.append(line);
    }
  }
  settle();
}

// ---- tabs ----

function tabs() {
  const list = [$("tab-live"), $("tab-music")];
  const select = (tab) => {
    for (const other of list) {
      const on = other === tab;
      other.setAttribute("aria-selected", String(on));
      other.tabIndex = on ? 0 : -1;
      $(other.getAttribute("aria-controls")).hidden = !on;
    }
    tab.focus();
  };
  list.forEach((tab, i) => {
    tab.addEventListener("click", () => select(tab));
    tab.addEventListener("keydown", (event) => {
      if (event.key === "ArrowRight") select(list[(i + 1) % list.length]);
      if (event.key === "ArrowLeft") select(list[(i + list.length - 1) % list.length]);
    });
  });
}

// ---- start ----

function fill(select, values, chosen) {
  select.replaceChildren(
    ...values.map((value) => {
      const option = document.createElement("option");
      option.value = value;
      option.textContent = value;
      option.selected = value === chosen;
      return option;
    }),
  );
}

async function start() {
  try {
    const response = await fetch("/console/info");
    info = await response.json();
  } catch (error) {
    showError(`Could not read the server's settings: ${error.message}`);
  }
  fill($("model"), info.models, info.models[0]);
  fill($("voice"), info.voices, info.voices.includes("Puck") ? "Puck" : info.voices[0]);
  fill($("musicModel"), info.musicModels, info.musicModels[0]);
  for (const id of ["apiKey", "apiKeyLabel", "apiKeyHelp"]) $(id).hidden = !info.apiKeyRequired;
  $("tools").value = JSON.stringify(DEMO_DECLARATIONS, null, 1);
  $("setup").addEventListener("submit", connect);
  $("disconnect").addEventListener("click", disconnect);
  $("textForm").addEventListener("submit", sendText);
  $("mic").addEventListener("click", toggleMic);
  $("screen").addEventListener("click", () => toggleShare("screen"));
  $("camera").addEventListener("click", () => toggleShare("camera"));
  $("volume").addEventListener("input", () => player && player.setVolume(Number($("volume").value)));
  $("modality").addEventListener("change", () => {
    $("voice").disabled = $("modality").value !== "AUDIO";
  });
  $("logAudio").addEventListener("change", () => {
    audioRuns = { in: null, out: null };
  });
  $("clearLog").addEventListener("click", () => {
    $("log").replaceChildren();
    audioRuns = { in: null, out: null };
  });
  tabs();
  new MusicTab({
    apiKey: () => $("apiKey").value.trim(),
    event: logEvent,
    error: showError,
    stats: hooks.music,
  });
  setInterval(() => {
    if (player) Object.assign(hooks.stats, { played: player.stats.played, peak: player.stats.peak, seconds: player.stats.seconds });
  }, 200);
  hooks.ready = true;
}

start();
