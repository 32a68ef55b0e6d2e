// The licence texts of every package bundled into the console's vendor files.
const fs = require("fs");
const path = require("path");
const lock = require("./package-lock.json");
const names = Object.keys(lock.packages)
  .filter((p) => p.startsWith("node_modules/") && !p.includes("esbuild"))
  .map((p) => p.slice("node_modules/".length))
  .sort();
for (const name of names) {
  const dir = path.join("node_modules", name);
  const meta = require(path.resolve(dir, "package.json"));
  const file = fs.readdirSync(dir).find((f) => /^(licen[sc]e|copying)/i.test(f));
  console.log(`${name} ${meta.version} (${meta.license || "see text"})\n`);
  if (file) console.log(fs.readFileSync(path.join(dir, file), "utf8").trim() + "\n");
  console.log("-".repeat(78) + "\n");
}
