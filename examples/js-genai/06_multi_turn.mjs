// A multi-turn conversation with @google/genai: a system instruction, three questions, each
// building on the last. The session keeps the conversation on the server; the client keeps its
// own copy too (to show it, or to start a new session with it as history).
//
//   cd examples/js-genai && npm install
//   OPENLIVE_URL=http://127.0.0.1:8080 node 06_multi_turn.mjs
import { GoogleGenAI, Modality } from "@google/genai";

const ai = new GoogleGenAI({
  apiKey: process.env.OPENLIVE_API_KEY ?? "any-key",
  httpOptions: { baseUrl: process.env.OPENLIVE_URL ?? "http://127.0.0.1:8080" },
});

const conversationHistory = [];
let turn = null;

const session = await ai.live.connect({
  model: "gemini-live-2.5-flash-preview",
  config: {
    responseModalities: [Modality.TEXT],
    systemInstruction:
      "You are a helpful coding assistant. Be brief: one sentence, at most three lines of code.",
  },
  callbacks: {
    onmessage: (message) => {
      if (!turn) return;
      turn.text += message.text ?? "";
      if (message.serverContent?.turnComplete) turn.resolve(turn.text);
    },
    onerror: (error) => turn?.reject(new Error(error.message)),
    onclose: (event) => turn?.reject(new Error(`session closed: ${event.code} ${event.reason}`)),
  },
});

async function sendMessage(text) {
  const userTurn = { role: "user", parts: [{ text }] };
  conversationHistory.push(userTurn);
  console.log(`You: ${text}`);
  const reply = new Promise((resolve, reject) => (turn = { text: "", resolve, reject }));
  session.sendClientContent({ turns: [userTurn], turnComplete: true });
  const answer = await reply;
  if (!answer) throw new Error("no answer");
  conversationHistory.push({ role: "model", parts: [{ text: answer }] });
  console.log(`Assistant: ${answer}\n`);
}

await sendMessage("How do I read a file in Python?");
await sendMessage("Can you show me an example with error handling?");
await sendMessage("What about reading CSV files?");
session.close();
console.log(`The conversation has ${conversationHistory.length} turns.`);
