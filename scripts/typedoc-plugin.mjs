// TypeDoc additions for the API site (typedoc.json "plugin"):
// - every @example gets the import lines of the @selmix exports (and `tf`) it uses, since the examples are
//   regions of examples.test.ts whose imports sit at the top of that file;
// - a guide is listed under its first "# " heading instead of its file name.
import { ReflectionKind, Renderer } from "typedoc";

/** @param {import("typedoc").Application} app */
export function load(app) {
  // At render time the packages are merged into one project, so an example can import from any of them.
  app.renderer.on(Renderer.EVENT_BEGIN, (event) => {
    const project = event.project;
    const exporters = exportersByName(project);
    for (const reflection of Object.values(project.reflections)) {
      for (const comment of [reflection.comment, ...(reflection.signatures ?? []).map((s) => s.comment)]) {
        if (comment !== undefined) mergeThrows(comment);
        for (const tag of comment?.blockTags ?? []) {
          if (tag.tag !== "@example") continue;
          for (const part of tag.content) {
            if (part.kind === "code") part.text = withImports(part.text, exporters, packageOf(reflection));
          }
        }
      }
    }
    for (const document of project.documents ?? []) renameByHeading(document);
    for (const child of project.children ?? []) for (const document of child.documents ?? []) renameByHeading(document);
  });
}

/** Several `@throws` tags would each render as a "Throws" section: one section, one paragraph per tag. */
function mergeThrows(comment) {
  const throws = comment.blockTags.filter((tag) => tag.tag === "@throws");
  if (throws.length < 2) return;
  const [first, ...rest] = throws;
  for (const tag of rest) first.content.push({ kind: "text", text: "\n\n" }, ...tag.content);
  comment.blockTags = comment.blockTags.filter((tag) => !rest.includes(tag));
}

function renameByHeading(document) {
  const text = document.content.map((part) => part.text).join("");
  const heading = /^# (.+)$/m.exec(text)?.[1]?.trim();
  if (heading !== undefined) document.name = heading;
}

/** The package (import specifier) a reflection belongs to: "@selmix/core", "@selmix/core/node", ... */
function packageOf(reflection) {
  let module;
  for (let r = reflection; r !== undefined; r = r.parent) if (r.kindOf(ReflectionKind.Module)) module = module ?? r;
  return module === undefined ? undefined : specifier(module);
}

function specifier(module) {
  const parent = module.parent?.kindOf(ReflectionKind.Module) ? module.parent : undefined;
  if (parent === undefined) return module.name;
  return module.name === "index" ? parent.name : `${parent.name}/${module.name}`;
}

/** name → the import specifiers that export it (a package's own export first when several do). */
function exportersByName(project) {
  const map = new Map();
  for (const module of project.getReflectionsByKind(ReflectionKind.Module)) {
    if ((module.children ?? []).some((c) => c.kindOf(ReflectionKind.Module))) continue; // a package of entry points
    for (const child of module.children ?? []) {
      if (child.kindOf(ReflectionKind.Module)) continue;
      const list = map.get(child.name) ?? [];
      list.push(specifier(module));
      map.set(child.name, list);
    }
  }
  return map;
}

/** Node built-ins the examples call, by module. */
const NODE_BUILTINS = {
  "node:path": ["join", "dirname", "resolve"],
  "node:os": ["tmpdir"],
  "node:fs": ["mkdtempSync", "readFileSync", "writeFileSync", "existsSync", "rmSync", "readdirSync", "mkdirSync"],
};

function withImports(fenced, exporters, home) {
  const match = /^(\s*)```(\w*)\n([\s\S]*?)\n?```\s*$/.exec(fenced);
  if (match === null || /^\s*import /m.test(match[3])) return fenced;
  const [, lead, lang, code] = match;
  // Names in comments and strings are not uses; a spread is not a property access.
  const words = code
    .replace(/\/\/.*$/gm, "")
    .replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g, '""')
    .replace(/\.\.\./g, "   ");
  const declared = new Set([...code.matchAll(/\b(?:const|let|var|function|class)\s+([A-Za-z_$][\w$]*)/g)].map((m) => m[1]));
  const bySpecifier = new Map();
  for (const [name, specifiers] of exporters) {
    if (declared.has(name)) continue;
    const used = new RegExp(`(?<![.\\w$])${name.replace(/\$/g, "\\$")}(?![\\w$])(?!\\s*:(?!:))`).test(words);
    if (!used) continue;
    const from = specifiers.includes(home) ? home : specifiers[0];
    bySpecifier.set(from, [...(bySpecifier.get(from) ?? []), name]);
  }
  const lines = [...bySpecifier]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([from, names]) => `import { ${names.sort((a, b) => a.localeCompare(b)).join(", ")} } from "${from}";`);
  for (const [from, names] of Object.entries(NODE_BUILTINS)) {
    const used = names.filter((name) => !declared.has(name) && new RegExp(`(?<![.\\w$])${name}\\(`).test(words));
    if (used.length > 0) lines.unshift(`import { ${used.join(", ")} } from "${from}";`);
  }
  if (/(?<![.\w$])tf\./.test(words) && !declared.has("tf")) lines.unshift(`import * as tf from "@tensorflow/tfjs-core";`);
  return lines.length === 0 ? fenced : `${lead}\`\`\`${lang}\n${lines.join("\n")}\n\n${code}\n\`\`\``;
}
