// Live function calling with @google/genai: the model calls a declared function, the client runs
// it and answers with sendToolResponse, and the same turn goes on with the answer.
//
//   cd examples/js-genai && npm install
//   OPENLIVE_URL=http://127.0.0.1:8080 node 03_function_calling.mjs
import { GoogleGenAI, Modality, Type } from "@google/genai";

const ai = new GoogleGenAI({
  apiKey: process.env.OPENLIVE_API_KEY ?? "any-key",
  httpOptions: { baseUrl: process.env.OPENLIVE_URL ?? "http://127.0.0.1:8080" },
});

const weatherTool = {
  functionDeclarations: [
    {
      name: "getWeather",
      description: "Get the current weather in a location.",
      parameters: {
        type: Type.OBJECT,
        properties: { location: { type: Type.STRING } },
        required: ["location"],
      },
    },
  ],
};

const getWeather = ({ location }) => ({ location, temperatureC: 22, condition: "sunny" }); // a stand-in

let answer = "";
let done;
let failed;
const turnComplete = new Promise((resolve, reject) => ((done = resolve), (failed = reject)));

const session = await ai.live.connect({
  model: "gemini-live-2.5-flash-preview",
  config: {
    responseModalities: [Modality.TEXT],
    systemInstruction: "You are a weather assistant. Answer in one sentence.",
    tools: [weatherTool],
  },
  callbacks: {
    onmessage: (message) => {
      if (message.toolCall) {
        const functionResponses = message.toolCall.functionCalls.map((call) => {
          console.log(`Tool call: ${call.name}(${JSON.stringify(call.args)})`);
          const result = getWeather(call.args);
          console.log(`Tool result: ${JSON.stringify(result)}`);
          return { id: call.id, name: call.name, response: { output: result } };
        });
        session.sendToolResponse({ functionResponses });
      }
      answer += message.text ?? "";
      if (message.serverContent?.turnComplete) done();
    },
    onerror: (error) => failed(new Error(error.message)),
    onclose: (event) => failed(new Error(`session closed: ${event.code} ${event.reason}`)),
  },
});

console.log("You: What is the weather in Tokyo?");
session.sendClientContent({ turns: [{ role: "user", parts: [{ text: "What is the weather in Tokyo?" }] }] });
await turnComplete;
session.close();
console.log(`Model: ${answer}`);
if (!answer) throw new Error("no answer");
