// Screen sharing with @google/genai: frames of a shared screen go out as realtime video (one a
// second), and the model answers questions about what is on it.
//
//   cd examples/js-genai && npm install
//   OPENLIVE_URL=http://127.0.0.1:8080 node 04_screen_sharing.mjs [screenshot.png]
//
// A real app would capture the screen every second (in a browser: getDisplayMedia, a canvas and
// toDataURL("image/jpeg")); this example "shares" one screenshot, examples/assets/error_dialog.png.
// A question reads the latest frame sent before it, so the first frame goes out first.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { GoogleGenAI, Modality } from "@google/genai";

const screenshot =
  process.argv[2] ?? fileURLToPath(new URL("../assets/error_dialog.png", import.meta.url));
const ai = new GoogleGenAI({
  apiKey: process.env.OPENLIVE_API_KEY ?? "any-key",
  httpOptions: { baseUrl: process.env.OPENLIVE_URL ?? "http://127.0.0.1:8080" },
});

let analysis = "";
let done;
let failed;
const turnComplete = new Promise((resolve, reject) => ((done = resolve), (failed = reject)));

const session = await ai.live.connect({
  model: "gemini-live-2.5-flash-preview",
  config: { responseModalities: [Modality.TEXT] },
  callbacks: {
    onmessage: (message) => {
      analysis += message.text ?? "";
      if (message.serverContent?.turnComplete) done();
    },
    onerror: (error) => failed(new Error(error.message)),
    onclose: (event) => failed(new Error(`session closed: ${event.code} ${event.reason}`)),
  },
});

const frame = readFileSync(screenshot).toString("base64");
const sendVideoFrame = () => session.sendRealtimeInput({ video: { data: frame, mimeType: "image/png" } });
sendVideoFrame();
const sharing = setInterval(sendVideoFrame, 1000); // 1 frame a second

const question = "Read me the error message on my screen.";
console.log(`You: ${question}`);
session.sendClientContent({ turns: [{ role: "user", parts: [{ text: question }] }] });
await turnComplete;
clearInterval(sharing);
session.close();
console.log(`Analysis: ${analysis}`);
if (!analysis) throw new Error("no answer");
