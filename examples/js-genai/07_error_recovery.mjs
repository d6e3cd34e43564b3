// Error recovery with @google/genai: session resumption. The client asks for resumption
// handles, keeps the latest, and when the connection is lost it reconnects (with retries and
// backoff), presenting the handle: the conversation carries on where it was.
//
//   cd examples/js-genai && npm install
//   OPENLIVE_URL=http://127.0.0.1:8080 node 07_error_recovery.mjs
//
// The connection is dropped on purpose after the first question; the second question ("What is
// my name?") is answered on a new connection from the resumed conversation.
import { GoogleGenAI, Modality } from "@google/genai";

const ai = new GoogleGenAI({
  apiKey: process.env.OPENLIVE_API_KEY ?? "any-key",
  httpOptions: { baseUrl: process.env.OPENLIVE_URL ?? "http://127.0.0.1:8080" },
});
const MAX_RECONNECT_ATTEMPTS = 3;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let handle = null; // the latest resumption handle
let turn = null; // the question in progress
let connections = 0;

async function connectWithRetry() {
  for (let attempt = 1; ; attempt++) {
    const connection = ++connections;
    try {
      const session = await ai.live.connect({
        model: "gemini-live-2.5-flash-preview",
        config: {
          responseModalities: [Modality.TEXT],
          sessionResumption: handle ? { handle } : {}, // ask for handles; resume with one
        },
        callbacks: {
          onmessage: (message) => {
            if (message.setupComplete) {
              const sessionId = message.setupComplete.sessionId;
              console.log(`Connected${handle ? " (resumed)" : ""}: session ${sessionId}`);
            }
            const update = message.sessionResumptionUpdate;
            if (update?.resumable && update.newHandle) {
              handle = update.newHandle;
              if (turn?.complete) turn.resolve(turn.text); // the state after the turn is kept
            }
            if (!turn) return;
            turn.text += message.text ?? "";
            if (message.serverContent?.turnComplete) turn.complete = true;
          },
          onerror: (error) => console.error(`Error: ${error.message}`),
          onclose: (event) => {
            if (connection !== connections) return; // an old connection
            turn?.reject(new Error(`connection lost: ${event.code} ${event.reason}`));
          },
        },
      });
      return session;
    } catch (error) {
      if (attempt >= MAX_RECONNECT_ATTEMPTS) throw error;
      console.log(`Connection failed (${error.message}); retrying (attempt ${attempt + 1})`);
      await sleep(500 * 2 ** (attempt - 1));
    }
  }
}

async function ask(session, question) {
  console.log(`You: ${question}`);
  const reply = new Promise((resolve, reject) => (turn = { text: "", resolve, reject }));
  session.sendClientContent({ turns: [{ role: "user", parts: [{ text: question }] }] });
  const text = await reply;
  turn = null;
  console.log(`Model: ${text}`);
  return text;
}

const questions = ["My name is Ada. Please remember it.", "What is my name?"];
let session = await connectWithRetry();
let answer = "";
let drops = 0;
while (questions.length > 0) {
  try {
    answer = await ask(session, questions[0]);
    questions.shift();
    if (questions.length === 1) {
      session.close(); // as if the network had dropped: the server keeps the session for its handle
      throw new Error("the network dropped (simulated)");
    }
  } catch (error) {
    if (++drops > MAX_RECONNECT_ATTEMPTS) throw error;
    console.log(`Connection lost: ${error.message}. Reconnecting with the resumption handle`);
    session = await connectWithRetry(); // a question cut by the drop is asked again
  }
}
session.close();
if (!answer.toLowerCase().includes("ada")) throw new Error("the resumed session forgot the conversation");
