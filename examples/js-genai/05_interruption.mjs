// Interruption with @google/genai: while the model is still writing a long story, the user says
// something new. The server stops the story, sends `interrupted` (then `turnComplete`), and
// answers the new input.
//
//   cd examples/js-genai && npm install
//   OPENLIVE_URL=http://127.0.0.1:8080 node 05_interruption.mjs
//
// In a voice app the new input is the user's speech (barge-in); here it is realtime text.
import { GoogleGenAI, Modality } from "@google/genai";

const ai = new GoogleGenAI({
  apiKey: process.env.OPENLIVE_API_KEY ?? "any-key",
  httpOptions: { baseUrl: process.env.OPENLIVE_URL ?? "http://127.0.0.1:8080" },
});

let chunks = 0;
let interrupted = false;
let turns = 0;
let joke = "";
let done;
let failed;
const bothTurns = new Promise((resolve, reject) => ((done = resolve), (failed = reject)));

const session = await ai.live.connect({
  model: "gemini-live-2.5-flash-preview",
  config: {
    responseModalities: [Modality.TEXT],
    systemInstruction: "You are a storyteller for children.",
  },
  callbacks: {
    onmessage: (message) => {
      const content = message.serverContent;
      if (content?.interrupted) {
        interrupted = true;
        console.log(" [interrupted]");
      }
      if (message.text && turns === 0) {
        process.stdout.write(message.text);
        if (++chunks === 8) {
          // the story is under way: interrupt it
          session.sendRealtimeInput({ text: "Actually, just tell me a joke instead." });
        }
      }
      if (message.text && turns === 1) joke += message.text;
      if (content?.turnComplete && ++turns === 2) done();
    },
    onerror: (error) => failed(new Error(error.message)),
    onclose: (event) => failed(new Error(`session closed: ${event.code} ${event.reason}`)),
  },
});

console.log("You: Tell me a long story about a dragon.");
process.stdout.write("Model: ");
session.sendClientContent({
  turns: [{ role: "user", parts: [{ text: "Tell me a long story about a dragon." }] }],
});
await bothTurns;
session.close();
console.log("You: Actually, just tell me a joke instead.");
console.log(`Model: ${joke}`);
if (!interrupted) throw new Error("the story was not interrupted");
if (!joke) throw new Error("no reply to the new input");
