// Audio in, audio out with @google/genai: a spoken question (a WAV file, streamed like a
// microphone), a spoken answer written to a WAV file, and both transcripts.
//
//   cd examples/js-genai && npm install
//   OPENLIVE_URL=http://127.0.0.1:8080 node 02_audio.mjs [question.wav] [answer.wav]
//
// The input is 16-bit mono PCM (16 kHz here: examples/assets/question.wav); the reply is 24 kHz.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { GoogleGenAI, Modality } from "@google/genai";

const question = process.argv[2] ?? fileURLToPath(new URL("../assets/question.wav", import.meta.url));
const answer = process.argv[3] ?? "answer.wav";
const ai = new GoogleGenAI({
  apiKey: process.env.OPENLIVE_API_KEY ?? "any-key",
  httpOptions: { baseUrl: process.env.OPENLIVE_URL ?? "http://127.0.0.1:8080" },
});

let heard = "";
let said = "";
const audio = [];
let done;
let failed;
const turnComplete = new Promise((resolve, reject) => ((done = resolve), (failed = reject)));

const session = await ai.live.connect({
  model: "gemini-live-2.5-flash-preview",
  config: {
    responseModalities: [Modality.AUDIO],
    speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: "Puck" } } },
    inputAudioTranscription: {},
    outputAudioTranscription: {},
  },
  callbacks: {
    onmessage: (message) => {
      const content = message.serverContent;
      heard += content?.inputTranscription?.text ?? "";
      said += content?.outputTranscription?.text ?? "";
      for (const part of content?.modelTurn?.parts ?? []) {
        if (part.inlineData?.mimeType?.startsWith("audio/")) {
          audio.push(Buffer.from(part.inlineData.data, "base64")); // 24 kHz 16-bit mono PCM
        }
      }
      if (content?.turnComplete) done();
    },
    onerror: (error) => failed(new Error(error.message)),
    onclose: (event) => failed(new Error(`session closed: ${event.code} ${event.reason}`)),
  },
});

// Stream the WAV in 100 ms chunks at real-time pace, as a microphone would.
const { rate, pcm } = readWav(question);
console.log(`Speaking ${question} ...`);
const step = (rate / 10) * 2;
for (let i = 0; i < pcm.length; i += step) {
  session.sendRealtimeInput({
    audio: { data: pcm.subarray(i, i + step).toString("base64"), mimeType: `audio/pcm;rate=${rate}` },
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
}
session.sendRealtimeInput({ audioStreamEnd: true }); // microphone off: the user's turn ends

await turnComplete;
session.close();
const reply = Buffer.concat(audio);
writeFileSync(answer, wavFile(reply, 24000, 1));
console.log(`You said: ${heard.trim()}`);
console.log(`Model said: ${said.trim()}`);
console.log(`Received ${reply.length} bytes of audio (${(reply.length / 48000).toFixed(1)} s), wrote ${answer}`);
if (reply.length === 0) throw new Error("no audio in the reply");

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
