// Text-based live chat with @google/genai: two questions in one Live session, replies streamed.
//
//   cd examples/js-genai && npm install
//   OPENLIVE_URL=http://127.0.0.1:8080 node 01_text_chat.mjs
//
// The JS SDK takes a plain http:// base URL (it connects with ws://).
import { GoogleGenAI, Modality } from "@google/genai";

const ai = new GoogleGenAI({
  apiKey: process.env.OPENLIVE_API_KEY ?? "any-key", // any string unless the server has keys
  httpOptions: { baseUrl: process.env.OPENLIVE_URL ?? "http://127.0.0.1:8080" },
});

// The reply in progress: resolved at turnComplete, rejected if the session ends first.
let turn = null;
const nextTurn = () => new Promise((resolve, reject) => (turn = { text: "", resolve, reject }));

const session = await ai.live.connect({
  model: "gemini-live-2.5-flash-preview",
  config: {
    responseModalities: [Modality.TEXT],
    systemInstruction: "Answer in at most two short sentences.",
  },
  callbacks: {
    onopen: () => console.log("Connected"),
    onmessage: (message) => {
      if (message.text) {
        process.stdout.write(message.text);
        turn.text += message.text;
      }
      if (message.serverContent?.turnComplete) turn.resolve(turn.text);
    },
    onerror: (error) => turn?.reject(new Error(error.message)),
    onclose: (event) => turn?.reject(new Error(`session closed: ${event.code} ${event.reason}`)),
  },
});

async function ask(question) {
  console.log(`You: ${question}`);
  process.stdout.write("Model: ");
  const reply = nextTurn();
  session.sendClientContent({ turns: [{ role: "user", parts: [{ text: question }] }] });
  const text = await reply;
  console.log();
  if (!text) throw new Error("no reply");
  return text;
}

await ask("What is quantum computing?");
await ask("Can you explain it more simply?"); // the session remembers the first question
session.close();
