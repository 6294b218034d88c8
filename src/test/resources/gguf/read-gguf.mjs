// Reads a GGUF file with @huggingface/gguf (an independent parser) and prints it as JSON: the
// version, every metadata value with its GGUF type, the tensor infos, and each F32 tensor's values
// read from tensorDataOffset + offset. Usage: node read-gguf.mjs MODULES_DIR FILE
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import path from "node:path";

const [modules, file] = process.argv.slice(2);
const entry = createRequire(path.join(modules, "package.json")).resolve("@huggingface/gguf");
const { gguf, GGUFValueType } = await import(pathToFileURL(entry).href);
const parsed = await gguf(path.resolve(file), { allowLocalFile: true, typedMetadata: true });
const bytes = readFileSync(file);
const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
const metadata = {};
for (const [key, typed] of Object.entries(parsed.typedMetadata)) {
  metadata[key] = { type: GGUFValueType[typed.type], subType: typed.subType === undefined ? null : GGUFValueType[typed.subType],
    value: typeof typed.value === "bigint" ? Number(typed.value) : typed.value };
}
const tensors = parsed.tensorInfos.map((t) => {
  const count = t.shape.reduce((a, b) => a * Number(b), 1);
  const start = Number(parsed.tensorDataOffset) + Number(t.offset);
  const values = [];
  for (let i = 0; i < count; i++) values.push(view.getFloat32(start + 4 * i, true));
  return { name: t.name, shape: t.shape.map(Number), dtype: t.dtype, offset: Number(t.offset), values };
});
console.log(JSON.stringify({ tensorDataOffset: Number(parsed.tensorDataOffset), size: bytes.byteLength, metadata, tensors }));
