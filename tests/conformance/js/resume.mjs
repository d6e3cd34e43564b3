// Session resumption and goAway through the unmodified @google/genai SDK.
// usage: node resume.mjs <baseUrl> <scenario>; prints one JSON object with what happened.
import { GoogleGenAI, Modality } from "@google/genai";

const [baseUrl, scenario] = process.argv.slice(2);
const ai = new GoogleGenAI({ apiKey: "test-key", httpOptions: { baseUrl } });
const MODEL = "gemini-live-2.5-flash-preview";

function open(handle, state = newState()) {
  return connectWith(handle, state).then((session) => ({ session, state }));
}

function newState() {
  return { messages: [], waiters: [], closed: null, handle: null, goAway: null };
}

function connectWith(handle, state) {
  const wake = () => { for (const w of state.waiters.splice(0)) w(); };
  return ai.live.connect({
    model: MODEL,
    config: { responseModalities: [Modality.TEXT], sessionResumption: handle ? { handle } : {} },
    callbacks: {
      onmessage: (m) => {
        state.messages.push(m);
        if (m.sessionResumptionUpdate?.newHandle) state.handle = m.sessionResumptionUpdate.newHandle;
        if (m.goAway) state.goAway = m.goAway.timeLeft;
        wake();
      },
      onerror: (e) => { state.error = String(e?.message ?? e); wake(); },
      onclose: (e) => { state.closed = { code: e.code, reason: e.reason }; wake(); },
    },
  });
}

async function until(state, pred, ms = 20000) {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error("timeout; got " + JSON.stringify(state.messages));
    await new Promise((r) => { state.waiters.push(r); setTimeout(r, 200); });
  }
}

async function say(conn, text) {
  const from = conn.state.messages.length;
  conn.session.sendClientContent({ turns: [{ role: "user", parts: [{ text }] }], turnComplete: true });
  const resumableAfter = () => conn.state.messages.slice(from).findIndex(
    (m, i, all) => m.sessionResumptionUpdate?.resumable && all.slice(0, i).some((x) => x.serverContent?.turnComplete));
  await until(conn.state, () => resumableAfter() >= 0);
  return conn.state.messages.slice(from).map((m) => m.text ?? "").join("");
}

const scenarios = {
  async resume() {
    const first = await open();
    await until(first.state, () => first.state.handle);
    const sessionId = first.state.messages[0].setupComplete?.sessionId;
    const said = await say(first, "my name is Ada");
    const handle = first.state.handle;
    first.session.close();
    const second = await open(handle);
    await until(second.state, () => second.state.handle && second.state.handle !== handle);
    const memory = await say(second, "[[history]]");
    second.session.close();
    return {
      said, memory, sameSession: second.state.messages[0].setupComplete?.sessionId === sessionId,
      handles: [handle, second.state.handle],
    };
  },
  async goaway() {
    const conn = await open();
    await until(conn.state, () => conn.state.handle);
    conn.session.sendClientContent({
      turns: [{ role: "user", parts: [{ text: "[[fault goaway 1]] hello" }] }], turnComplete: true });
    await until(conn.state, () => conn.state.closed);
    const again = await open(conn.state.handle);
    await until(again.state, () => again.state.messages.length >= 2);
    const memory = await say(again, "[[history]]");
    again.session.close();
    return { goAway: conn.state.goAway, closed: conn.state.closed, memory };
  },
  async badHandle() {
    // connect() resolves only on setupComplete: a refused session is seen through onclose
    const state = newState();
    open("no-such-handle", state).catch(() => {});
    await until(state, () => state.closed);
    return { closed: state.closed };
  },
};

scenarios[scenario]()
  .then((result) => { console.log(JSON.stringify(result)); process.exit(0); })
  .catch((err) => { console.error(err?.stack ?? String(err)); process.exit(1); });
