// Drives the unmodified @google/genai SDK against an openlive server.
// usage: node live.mjs <baseUrl> <scenario>; prints one JSON object with what happened.
import { GoogleGenAI, Modality } from "@google/genai";

import { readFileSync } from "node:fs";

const [baseUrl, scenario, extra] = process.argv.slice(2);
const ai = new GoogleGenAI({ apiKey: "test-key", httpOptions: { baseUrl } });
const MODEL = "gemini-live-2.5-flash-preview";

function open(model = MODEL, config = { responseModalities: [Modality.TEXT] }, state = newState()) {
  const wake = () => { for (const w of state.waiters.splice(0)) w(); };
  return ai.live
    .connect({
      model,
      config,
      callbacks: {
        onmessage: (m) => { state.messages.push(m); wake(); },
        onerror: (e) => { state.error = String(e?.message ?? e); wake(); },
        onclose: (e) => { state.closed = { code: e.code, reason: e.reason }; wake(); },
      },
    })
    .then((session) => ({ session, state }));
}

function newState() {
  return { messages: [], waiters: [], closed: null };
}

async function until(state, pred, ms = 20000) {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error("timeout waiting; got " + JSON.stringify(state.messages));
    await new Promise((r) => { state.waiters.push(r); setTimeout(r, 200); });
  }
}

function turns(state, from = 0) {
  // split messages from index `from` into turns ending at turnComplete
  const out = [];
  let cur = [];
  for (const m of state.messages.slice(from)) {
    if (m.setupComplete) continue;
    cur.push(m);
    if (m.serverContent?.turnComplete) { out.push(cur); cur = []; }
  }
  return out;
}

const textOf = (turn) => turn.map((m) => m.text ?? "").join("");
const userTurn = (text) => ({ role: "user", parts: [{ text }] });
const nTurns = (state) => turns(state).length;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function sendWav(session, path) {
  // 16-bit mono WAV at 16 kHz: stream 100 ms chunks at real-time pace, then 1.5 s of silence
  const wav = readFileSync(path);
  const pcm = wav.subarray(wav.indexOf("data") + 8);
  const step = 3200;
  const chunks = [];
  for (let i = 0; i < pcm.length; i += step) chunks.push(pcm.subarray(i, i + step));
  for (let i = 0; i < 15; i++) chunks.push(Buffer.alloc(step));
  const start = Date.now();
  for (let i = 0; i < chunks.length; i++) {
    const wait = start + i * 100 - Date.now();
    if (wait > 0) await sleep(wait);
    session.sendRealtimeInput({
      audio: { data: chunks[i].toString("base64"), mimeType: "audio/pcm;rate=16000" },
    });
  }
}

const scenarios = {
  async tools() {
    // the seeds' weather story: toolCall with an id, sendToolResponse, the turn goes on
    const weather = {
      name: "get_weather",
      description: "Current weather for a city.",
      parameters: { type: "OBJECT", properties: { city: { type: "STRING" } }, required: ["city"] },
    };
    const config = { responseModalities: [Modality.TEXT], tools: [{ functionDeclarations: [weather] }] };
    const { session, state } = await open(MODEL, config);
    session.sendClientContent({
      turns: [userTurn('Weather in Tokyo? [[call get_weather {"city": "Tokyo"}]]')],
      turnComplete: true,
    });
    await until(state, () => state.messages.some((m) => m.toolCall));
    const calls = state.messages.find((m) => m.toolCall).toolCall.functionCalls;
    session.sendToolResponse({
      functionResponses: calls.map((c) => ({ id: c.id, name: c.name, response: { output: "sunny" } })),
    });
    await until(state, () => nTurns(state) >= 1);
    session.close();
    return { calls, text: textOf(turns(state)[0]) };
  },
  async audio() {
    const config = {
      responseModalities: [Modality.AUDIO],
      inputAudioTranscription: {},
      outputAudioTranscription: {},
      speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: "Kore" } } },
    };
    const { session, state } = await open(MODEL, config);
    await sendWav(session, extra);
    await until(state, () => nTurns(state) >= 1, 60000);
    const [t] = turns(state);
    session.close();
    const parts = t.flatMap((m) => m.serverContent?.modelTurn?.parts ?? []);
    return {
      input: t.map((m) => m.serverContent?.inputTranscription?.text ?? "").join(""),
      output: t.map((m) => m.serverContent?.outputTranscription?.text ?? "").join(" "),
      mimeTypes: [...new Set(parts.map((p) => p.inlineData?.mimeType).filter(Boolean))],
      audioBytes: t.reduce((n, m) => n + (m.data ? Buffer.from(m.data, "base64").length : 0), 0),
      usage: t[t.length - 1].usageMetadata ?? null,
    };
  },
  async basic() {
    const { session, state } = await open();
    const setup = state.messages.find((m) => m.setupComplete);
    session.sendClientContent({ turns: [userTurn("Hello world")], turnComplete: true });
    await until(state, () => nTurns(state) >= 1);
    const [turn] = turns(state);
    session.close();
    return {
      sessionId: setup?.setupComplete?.sessionId ?? null,
      text: textOf(turn),
      chunks: turn.filter((m) => m.text).length,
      generationComplete: turn.some((m) => m.serverContent?.generationComplete),
      usage: turn[turn.length - 1].usageMetadata,
    };
  },
  async multiturn() {
    const { session, state } = await open();
    session.sendClientContent({ turns: [userTurn("first question here")], turnComplete: true });
    await until(state, () => nTurns(state) >= 1);
    session.sendClientContent({ turns: "second", turnComplete: true });
    await until(state, () => nTurns(state) >= 2);
    const ts = turns(state);
    session.close();
    return { texts: ts.map(textOf), prompt2: ts[1][ts[1].length - 1].usageMetadata.promptTokenCount };
  },
  async prefill() {
    const { session, state } = await open();
    session.sendClientContent({
      turns: [userTurn("My name is Ada"), { role: "model", parts: [{ text: "Hello Ada" }] },
        userTurn("remember me")],
      turnComplete: false,
    });
    session.sendClientContent({ turnComplete: true });
    await until(state, () => nTurns(state) >= 1);
    const [t] = turns(state);
    session.close();
    return { text: textOf(t), prompt: t[t.length - 1].usageMetadata.promptTokenCount };
  },
  async realtime_text() {
    const { session, state } = await open();
    session.sendRealtimeInput({ text: "hello realtime" });
    await until(state, () => nTurns(state) >= 1);
    const [t] = turns(state);
    session.close();
    return { text: textOf(t) };
  },
  async interrupt() {
    const { session, state } = await open();
    session.sendClientContent({ turns: [userTurn("[[slow]] a story that goes on")], turnComplete: true });
    await until(state, () => state.messages.some((m) => m.text));
    session.sendClientContent({ turns: [userTurn("new question")], turnComplete: true });
    await until(state, () => nTurns(state) >= 2);
    const [first, second] = turns(state);
    session.close();
    return {
      firstTail: first.slice(-2).map((m) => m.serverContent),
      firstGenerationComplete: first.some((m) => m.serverContent?.generationComplete),
      secondText: textOf(second),
    };
  },
  async unknown_model() {
    // connect() resolves only on setupComplete, so a refused session is seen through onclose
    const state = newState();
    open("foo", undefined, state);
    await until(state, () => state.closed);
    return { closed: state.closed };
  },
  async bad_input() {
    const { session, state } = await open();
    session.sendRealtimeInput({ audio: { data: "AAAA", mimeType: "audio/ogg" } });
    await until(state, () => state.closed);
    const other = await open();
    other.session.sendClientContent({ turns: [userTurn("still up")], turnComplete: true });
    await until(other.state, () => nTurns(other.state) >= 1);
    other.session.close();
    return { closed: state.closed, otherText: textOf(turns(other.state)[0]) };
  },
  async tokens() {
    // mint an ephemeral token (REST, v1alpha), then connect with it as the page would:
    // the SDK switches to BidiGenerateContentConstrained?access_token=...
    const minter = new GoogleGenAI({ apiKey: "test-key", httpOptions: { baseUrl, apiVersion: "v1alpha" } });
    const token = await minter.authTokens.create({
      config: {
        uses: 1,
        expireTime: new Date(Date.now() + 5 * 60 * 1000).toISOString(),
        liveConnectConstraints: {
          model: MODEL,
          config: { responseModalities: [Modality.TEXT], maxOutputTokens: 2 },
        },
        lockAdditionalFields: [],
      },
    });
    const page = new GoogleGenAI({ apiKey: token.name, httpOptions: { baseUrl, apiVersion: "v1alpha" } });
    const connectWith = (state) => {
      const wake = () => { for (const w of state.waiters.splice(0)) w(); };
      return page.live.connect({
        model: MODEL,
        config: { responseModalities: [Modality.TEXT], maxOutputTokens: 50 },
        callbacks: {
          onmessage: (m) => { state.messages.push(m); wake(); },
          onerror: (e) => { state.error = String(e?.message ?? e); wake(); },
          onclose: (e) => { state.closed = { code: e.code, reason: e.reason }; wake(); },
        },
      });
    };
    const first = newState();
    const session = await connectWith(first);
    session.sendClientContent({ turns: [userTurn("Hello world")], turnComplete: true });
    await until(first, () => nTurns(first) >= 1);
    session.close();
    const second = newState();
    connectWith(second); // refused: the close arrives, the connect promise may never settle
    await until(second, () => second.closed);
    return { name: token.name, text: textOf(turns(first)[0]), secondClosed: second.closed };
  },
};

const run = scenarios[scenario];
if (!run) {
  console.error(`unknown scenario ${scenario}`);
  process.exit(2);
}
run()
  .then((result) => { console.log(JSON.stringify(result)); process.exit(0); })
  .catch((err) => { console.error(err?.stack ?? String(err)); process.exit(1); });
