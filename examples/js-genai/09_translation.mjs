// Real-time translation with @google/genai: English speech in, Spanish speech out (and its text,
// as the output transcription), steered by a system instruction.
//
//   cd examples/js-genai && npm install
//   OPENLIVE_URL=http://127.0.0.1:8080 node 09_translation.mjs [english.wav] [spanish.wav]
//
// speechConfig.languageCode picks the voice's language (openlive speaks Spanish with espeak-ng).
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { GoogleGenAI, Modality } from "@google/genai";

const english = process.argv[2] ?? fileURLToPath(new URL("../assets/coffee.wav", import.meta.url));
const output = process.argv[3] ?? "spanish.wav";
const ai = new GoogleGenAI({
  apiKey: process.env.OPENLIVE_API_KEY ?? "any-key",
  httpOptions: { baseUrl: process.env.OPENLIVE_URL ?? "http://127.0.0.1:8080" },
});

let heard = "";
let translated = "";
const audio = [];
let done;
let failed;
const turnComplete = new Promise((resolve, reject) => ((done = resolve), (failed = reject)));

const session = await ai.live.connect({
  model: "gemini-live-2.5-flash-preview",
  config: {
    responseModalities: [Modality.AUDIO],
    speechConfig: { languageCode: "es-ES" },
    systemInstruction:
      "You are an interpreter. Translate everything the user says from English to Spanish. " +
      "Reply with the Spanish translation only.",
    inputAudioTranscription: {},
    outputAudioTranscription: {},
  },
  callbacks: {
    onmessage: (message) => {
      const content = message.serverContent;
      heard += content?.inputTranscription?.text ?? "";
      translated += content?.outputTranscription?.text ?? "";
      for (const part of content?.modelTurn?.parts ?? []) {
        if (part.inlineData?.mimeType?.startsWith("audio/")) {
          audio.push(Buffer.from(part.inlineData.data, "base64"));
        }
      }
      if (content?.turnComplete) done();
    },
    onerror: (error) => failed(new Error(error.message)),
    onclose: (event) => failed(new Error(`session closed: ${event.code} ${event.reason}`)),
  },
});

// Send the speech in 100 ms chunks at real-time pace, as a microphone would.
const { rate, pcm } = readWav(english);
const step = (rate / 10) * 2;
for (let i = 0; i < pcm.length; i += step) {
  session.sendRealtimeInput({
    audio: { data: pcm.subarray(i, i + step).toString("base64"), mimeType: `audio/pcm;rate=${rate}` },
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
}
session.sendRealtimeInput({ audioStreamEnd: true });

await turnComplete;
session.close();
const speech = Buffer.concat(audio);
writeFileSync(output, wavFile(speech, 24000, 1));
console.log(`English: ${heard.trim()}`);
console.log(`Translated: ${translated.trim()}`);
console.log(`Received ${speech.length} bytes of Spanish audio, wrote ${output}`);
if (!translated || speech.length === 0) throw new Error("no translation");

function readWav(path) {
  const wav = readFileSync(path);
  let rate = 16000;
  for (let at = 12; at + 8 <= wav.length; ) {
    const id = wav.toString("ascii", at, at + 4);
    const size = wav.readUInt32LE(at + 4);
    if (id === "fmt ") rate = wav.readUInt32LE(at + 12);
    if (id === "data") return { rate, pcm: wav.subarray(at + 8, at + 8 + size) };
    at += 8 + size + (size % 2);
  }
  throw new Error(`${path}: no audio data`);
}

function wavFile(pcm, rate, channels) {
  const header = Buffer.alloc(44);
  header.write("RIFF", 0);
  header.writeUInt32LE(36 + pcm.length, 4);
  header.write("WAVEfmt ", 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * channels * 2, 28);
  header.writeUInt16LE(channels * 2, 32);
  header.writeUInt16LE(16, 34);
  header.write("data", 36);
  header.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([header, pcm]);
}
